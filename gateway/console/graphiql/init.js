// GraphiQL against this gateway, HTTP and graphql-ws, with the console's token (if any) as
// the default Authorization header. Everything is served by the gateway itself.
(function () {
  'use strict';
  var token = sessionStorage.getItem('paygraph.token') || '';
  var match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    token = decodeURIComponent(match[1]);
    sessionStorage.setItem('paygraph.token', token);
    history.replaceState(null, '', location.pathname + location.search);
  }
  var wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  var authorization = token ? 'Bearer ' + token : undefined;
  var fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    wsClient: graphqlWs.createClient({ url: wsUrl, lazy: true, connectionParams: authorization ? { authorization: authorization } : {} }),
  });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      defaultHeaders: authorization ? JSON.stringify({ authorization: authorization }, null, 2) : '{\n  "authorization": "Bearer <token>"\n}',
      defaultQuery: '# paygraph: one graph over accounts, payments, risk and compliance.\n' +
        '# Put a token in the Headers tab (npm run token -- --sub you --scope "payments:read").\n' +
        'query RecentPayments {\n  payments(first: 5) {\n    edges { node { id status amount { amount currency } riskAssessment { level } complianceCheck { status } } }\n  }\n}\n',
    }),
  );
})();
