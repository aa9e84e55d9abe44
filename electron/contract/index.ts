export * from './api';
export * from './doctor';
export * from './errors';
export * from './profiles';
export * from './wire';
