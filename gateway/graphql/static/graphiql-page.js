// Starts GraphiQL against this service's GraphQL endpoint. Served by the service itself,
// beside the vendored React and GraphiQL bundles, so the page needs no CDN and runs under
// a Content-Security-Policy that allows scripts from this origin only.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.dataset.endpoint || window.location.pathname, window.location.href);
  var socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  var network = GraphiQL.createFetcher({
    url: endpoint.href,
    // Subscriptions go over graphql-transport-ws; GraphiQL sends the headers below as the
    // connection_init payload.
    subscriptionUrl: socket.href,
  });
  // Every operation, the schema's introspection included, needs the key. Without one in the
  // Headers tab nothing is sent (the server would answer 401, an error in the console and
  // in the result pane); the page asks for the key instead, and loads the schema once it
  // is given.
  var ASK =
    'Put your API key in the Headers tab below: {"Authorization": "Bearer cinv_..."}. ' +
    "The schema (Docs, completion) loads as soon as it is there.";
  var KEY_HEADER = /^\s*Bearer\s+cinv_[A-Za-z0-9_-]{8,}\s*$/;
  function keyIn(headers) {
    if (!headers || typeof headers !== "object") return null;
    for (var name in headers) {
      if (name.toLowerCase() === "authorization" && KEY_HEADER.test(String(headers[name]))) {
        return String(headers[name]).trim();
      }
    }
    return null;
  }
  function keyInText(text) {
    try {
      return keyIn(JSON.parse(text || "{}"));
    } catch (error) {
      return null; // half-typed JSON: no key yet
    }
  }
  function guarded() {
    // A new function each time: GraphiQL introspects again whenever its fetcher changes.
    return function (params, options) {
      if (!keyIn(options && options.headers)) {
        return Promise.resolve({ errors: [{ message: ASK }] });
      }
      return network(params, options);
    };
  }
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
  var SETTLE_MS = 400; // a key is taken once typing pauses, not at every keystroke

  function Page() {
    var state = React.useState(function () {
      return guarded();
    });
    var seen = React.useRef(null);
    var timer = React.useRef(null);
    function onEditHeaders(text) {
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(function () {
        var key = keyInText(text);
        if (key && key !== seen.current) {
          seen.current = key;
          state[1](function () {
            return guarded(); // a new fetcher: GraphiQL loads the schema with this key
          });
        }
      }, SETTLE_MS);
    }
    return React.createElement(GraphiQL, {
      fetcher: state[0],
      onEditHeaders: onEditHeaders,
      defaultQuery: defaultQuery,
      defaultHeaders: JSON.stringify({ Authorization: "Bearer " }, null, 2),
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
      storage: storage,
    });
  }

  root.textContent = "";
  ReactDOM.createRoot(root).render(React.createElement(Page));
})();
