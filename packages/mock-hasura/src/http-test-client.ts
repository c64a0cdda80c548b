// A minimal GraphQL-over-HTTP client for this package's tests: plain `fetch`, the parsed body back.

/** A GraphQL response body as Hasura sends it. */
export interface GraphQLResponseBody<TData = Record<string, unknown>> {
  readonly data?: TData | null;
  readonly errors?: readonly {
    readonly message: string;
    readonly extensions?: Readonly<Record<string, unknown>>;
    readonly locations?: readonly { line: number; column: number }[];
  }[];
}

/** POSTs one operation and returns the HTTP status and the parsed body. */
export async function postGraphQL<TData = Record<string, unknown>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: GraphQLResponseBody<TData> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(variables === undefined ? { query } : { query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponseBody<TData> };
}
