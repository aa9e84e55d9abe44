export * from './api';
export * from './doctor';
export * from './errors';
export * from './firmware';
export * from './monitor';
export * from './stack';
export * from './profiles';
export * from './wire';
