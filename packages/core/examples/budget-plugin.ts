import { defineGatewayPlugin, type GatewayPlugin } from '@ballast/core';

/** A toy per-session budget: reserve the worst case before the call, settle the real cost after. */
export default defineGatewayPlugin<{ usdPerSession: number }>((options, host) => {
  const spent = new Map<string, number>();
  const reserved = new Map<string, number>();
  const key = (sessionId: string | undefined) => sessionId ?? 'anonymous';

  const release = (requestId: string, sessionId: string | undefined, actualUsd: number) => {
    const hold = reserved.get(requestId) ?? 0;
    reserved.delete(requestId);
    const session = key(sessionId);
    spent.set(session, (spent.get(session) ?? 0) - hold + actualUsd);
  };

  const plugin: GatewayPlugin = {
    name: 'toy-budget',
    onRequest(context) {
      const session = key(context.sessionId);
      const worst = host.pricing.worstCaseCost(context.request).usd;
      const used = spent.get(session) ?? 0;
      if (used + worst > options.usdPerSession) {
        return {
          action: 'deny',
          code: 'budget_exceeded',
          status: 402,
          message: `session ${session} would pass its budget`,
        };
      }
      spent.set(session, used + worst);
      reserved.set(context.requestId, worst);
      context.setResponseHeader('x-ballast-session-spend-usd', used.toFixed(6));
      return { action: 'allow' };
    },
    onStreamEvent(context, _event, progress) {
      const hold = reserved.get(context.requestId) ?? 0;
      if (progress.costUsd !== undefined && progress.costUsd >= hold) {
        return { action: 'cut', code: 'budget_exceeded', message: 'the reservation is spent' };
      }
      return undefined;
    },
    onResponse: (context, outcome) => release(context.requestId, context.sessionId, outcome.costUsd ?? 0),
    onAbort: (context, outcome) => release(context.requestId, context.sessionId, outcome.costUsd ?? 0),
    onError: (context) => release(context.requestId, context.sessionId, 0),
    routes: [
      {
        method: 'GET',
        path: '/admin/toy-budget',
        auth: 'admin',
        handle: () => Response.json(Object.fromEntries(spent)),
      },
    ],
  };
  return plugin;
});
