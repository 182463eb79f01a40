// Copy, move and clone rows between tenants: the public API of this area.
export { copyRows, moveRows } from './transfer.js';
export { validateTransferOptions } from './options.js';
export { ON_CONFLICT_MODES } from './types.js';
export type { OnConflict, TransferOptions, TransferResult, TransferStatus, TableCount, KeyConflict } from './types.js';
