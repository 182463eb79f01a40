// Isolation verification: the public API of this area.
export { verify, parseFailOn, selectChecks } from './run.js';
export { junitXml, xmlEscape } from './junit.js';
export { CHECKS as VERIFY_CHECKS } from './checks/index.js';
export {
  CHECK_IDS,
  fails,
  type CheckId,
  type CheckDefinition,
  type FailOn,
  type Finding,
  type Level,
  type Note,
  type Violation,
  type VerifyOptions,
  type VerifyResult,
  type CheckResult,
  type TenantVerdict,
  type ServerVerdict,
} from './types.js';
export { validateVerifyOptions } from './options.js';
