// The offline GraphiQL page (/graphql in a browser): local assets, the three clinical questions
// for the demo patient as the first tabs, and the explorer's token (localStorage "kg.token") as
// the Authorization header of every request.
(function () {
  "use strict";
  const token = window.localStorage.getItem("kg.token");
  const headers = token ? JSON.stringify({ Authorization: "Bearer " + token }, null, 2) : undefined;
  const tabs = JSON.parse(document.getElementById("example-tabs").textContent).map(
    (tab) => Object.assign({}, tab, headers ? { headers: headers } : {}));
  const url = window.location.href.split("?")[0];
  const fetcher = GraphiQL.createFetcher({ url: url });

  function App() {
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: tabs,
      defaultHeaders: headers,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(App));
})();
