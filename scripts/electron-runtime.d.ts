export declare function findElectron(): { path: string } | { reason: string };
