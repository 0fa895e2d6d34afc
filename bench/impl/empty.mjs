// Baseline for cold start: the cost of import() itself.
export function makeClient() { return {}; }
