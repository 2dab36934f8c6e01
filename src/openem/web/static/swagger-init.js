// Starts Swagger UI on /api/docs. A file, not an inline script: the content-security policy allows
// scripts from this server only ('self'), so the page works offline and under the same policy as every page.
(function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
