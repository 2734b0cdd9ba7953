// Starts GraphiQL against this service's GraphQL endpoint. Served by the service itself,
// beside the vendored React and GraphiQL bundles, so the page needs no CDN and runs under
// a Content-Security-Policy that allows scripts from this origin only.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.dataset.endpoint || window.location.pathname, window.location.href);
  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: endpoint.href,
    // Subscriptions go over graphql-transport-ws; GraphiQL sends the headers below as the
    // connection_init payload.
    subscriptionUrl: socket.href,
  });
  var defaultQuery = [
    "# CleverInvo GraphQL",
    "#",
    "# Your API key goes in the Headers tab below:",
    '#   {"Authorization": "Bearer cinv_..."}',
    "# (`cleverinvo keys create ACCOUNT` makes one).",
    "# Headers stay with this tab: they are not",
    "# saved in the browser, nor put in the URL.",
    "#",
    "# Ctrl-Space completes, Ctrl-Enter runs,",
    "# and the Docs panel shows the schema.",
    "",
    "query {",
    "  __typename",
    "}",
    "",
  ].join("\n");
  // GraphiQL keeps tabs and history in localStorage; history entries can hold the headers
  // a query ran with. Whatever it stores passes through here, with any key cut out.
  var KEY = /cinv_[A-Za-z0-9_-]+/g;
  var storage = {
    getItem: function (name) { return window.localStorage.getItem(name); },
    setItem: function (name, value) { window.localStorage.setItem(name, String(value).replace(KEY, "cinv_")); },
    removeItem: function (name) { window.localStorage.removeItem(name); },
    clear: function () { window.localStorage.clear(); },
    key: function (index) { return window.localStorage.key(index); },
    get length() { return window.localStorage.length; },
  };
  root.textContent = "";
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: JSON.stringify({ Authorization: "Bearer " }, null, 2),
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      storage: storage,
    })
  );
})();
