import type { Static } from 'typebox';
import type * as S from './schemas.ts';

// The admin API's requests and answers as static types of the very schemas the routes validate
// with (schemas.ts): the dashboard and the CLI import these (`import type`, erased at build), so
// the contract is written once. Money is an exact decimal string.

export type LoginBody = Static<typeof S.LoginBody>;
export type LoginResponse = Static<typeof S.LoginResponse>;
export type Session = Static<typeof S.Session>;

export type UserStatus = Static<typeof S.UserStatus>;
export type RoutingStrategy = Static<typeof S.RoutingStrategy>;
export type User = Static<typeof S.User>;
export type UserListQuery = Partial<Static<typeof S.UserListQuery>>;
export type UserListItem = Static<typeof S.UserListItem>;
export type UserPage = Static<typeof S.UserPage>;
export type CreateUserBody = Static<typeof S.CreateUserBody>;
export type UpdateUserBody = Static<typeof S.UpdateUserBody>;

export type AccessKeyStatus = Static<typeof S.AccessKeyStatus>;
export type AccessKey = Static<typeof S.AccessKey>;
export type AccessKeyListItem = Static<typeof S.AccessKeyListItem>;
export type AccessKeyList = Static<typeof S.AccessKeyList>;
export type IssueKeyBody = Static<typeof S.IssueKeyBody>;
export type IssuedKey = Static<typeof S.IssuedKey>;
export type RotatedKey = Static<typeof S.RotatedKey>;
export type UpdateKeyBody = Static<typeof S.UpdateKeyBody>;

export type PutBedrockKeyBody = Static<typeof S.PutBedrockKeyBody>;
export type BedrockKeyStatus = Static<typeof S.BedrockKeyStatus>;

export type Breaker = Static<typeof S.Breaker>;
export type BreakerList = Static<typeof S.BreakerList>;
export type FallbackReadiness = Static<typeof S.FallbackReadiness>;
export type PlanPark = Static<typeof S.PlanPark>;
export type PlanWindow = Static<typeof S.PlanWindow>;
export type PlanWindowList = Static<typeof S.PlanWindowList>;
export type PlanSettings = Static<typeof S.PlanSettings>;
export type PutPlanSettingsBody = Static<typeof S.PutPlanSettingsBody>;
export type PlanReport = Static<typeof S.PlanReport>;

export type BudgetSummary = Static<typeof S.BudgetSummary>;
export type BudgetStatus = Static<typeof S.BudgetStatus>;
export type PutBudgetBody = Static<typeof S.PutBudgetBody>;
export type Limits = Static<typeof S.Limits>;
export type PutLimitsBody = Static<typeof S.PutLimitsBody>;

export type ModelMapping = Static<typeof S.Mapping>;
export type ModelMappings = Static<typeof S.MappingList>;
export type PutMappingBody = Static<typeof S.PutMappingBody>;

export type PriceProvider = Static<typeof S.PriceProvider>;
export type PriceRates = Static<typeof S.PriceRates>;
export type Price = Static<typeof S.Price>;
export type PriceList = Static<typeof S.PriceList>;
export type AddPriceBody = Static<typeof S.AddPriceBody>;

export type AuditEntry = Static<typeof S.AuditEntry>;
export type AuditPage = Static<typeof S.AuditPage>;

export type Provider = Static<typeof S.UsageProvider>;
export type ReportPeriod = Static<typeof S.ReportPeriod>;
export type UsageTotals = Static<typeof S.UsageTotalsJson>;
export type UsageReport = Static<typeof S.UsageReport>;
export type TopUsers = Static<typeof S.TopUsers>;
export type CostBreakdown = Static<typeof S.CostBreakdown>;
export type FallbackReport = Static<typeof S.Fallbacks>;
