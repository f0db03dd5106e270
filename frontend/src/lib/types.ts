// The admin API's JSON: the types of the backend's own schemas (backend/src/admin/contract.ts),
// imported as types only, so nothing of the backend reaches the bundle.
import type { IssuedKey, RotatedKey } from '../../../backend/src/admin/contract.ts';

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
  FallbackReport,
  IssuedKey,
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
