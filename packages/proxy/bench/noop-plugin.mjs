// A plugin that does nothing: the bench loads it to measure what the plugin pipeline itself costs.
/** @type {import('@ballast/core').GatewayPluginFactory} */
export default function createNoopPlugin(_options, _host) {
  return {
    name: 'noop',
    onRequest() {
      return undefined;
    },
  };
}
