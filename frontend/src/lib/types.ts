// The admin API's JSON: the types of the backend's own schemas (backend/src/admin/contract.ts),
// imported as types only, so nothing of the backend reaches the bundle.
import type { Static } from 'typebox';
import type { IssuedKey, RotatedKey } from '../../../backend/src/admin/contract.ts';
import type * as S from '../../../backend/src/admin/schemas.ts';

export type {
  AccessKey,
  AccessKeyListItem,
  AuditEntry,
  AuditPage,
  BedrockKeyStatus,
  Breaker,
  BudgetStatus,
  BudgetSummary,
  CostBreakdown,
  FallbackReadiness,
  FallbackReport,
  IssuedKey,
  Limits,
  ModelMapping,
  ModelMappings,
  PlanPark,
  PlanReport,
  PlanSettings,
  PlanWindow,
  PlanWindowList,
  Price,
  PriceRates,
  Provider,
  ReportPeriod,
  RoutingStrategy,
  RotatedKey,
  Session,
  TopUsers,
  UsageReport,
  UsageTotals,
  User,
  UserListItem,
  UserPage,
  UserStatus,
} from '../../../backend/src/admin/contract.ts';

/** A key shown once: just issued, or a rotation's new key (which says what it replaces). */
export type NewKey = IssuedKey & Partial<Pick<RotatedKey, 'replaces'>>;

// The request log and the error report, typed by the backend's schemas (backend/src/admin/contract.ts
// does not name them).
export type RequestLogItem = Static<typeof S.RequestRow>;
export type RequestLogPage = Static<typeof S.RequestLogPage>;
export type ErrorReport = Static<typeof S.ErrorReport>;

// Automation tokens (the API tokens page), typed by the backend's schemas.
export type ApiToken = Static<typeof S.ApiToken>;
export type CreatedApiToken = Static<typeof S.CreatedApiToken>;
export type ApiTokenRole = ApiToken['role'];
export type UserEmail = Static<typeof S.UserEmail>;
