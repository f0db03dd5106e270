export function OverviewPage() {
  return <h1 className="text-2xl font-semibold">Overview</h1>;
}
