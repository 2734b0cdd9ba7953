// Swagger UI for this service's own OpenAPI document. Nothing is fetched from elsewhere:
// no validator badge, no remote configuration, and the key typed in "Authorize" stays in
// this tab's memory (persistAuthorization is off).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-url"),
    domNode: root,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    validatorUrl: null,
    queryConfigEnabled: false,
    persistAuthorization: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false
  });
})();
