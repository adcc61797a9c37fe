// Where the console finds the API. Empty: the same origin that served this page
// (`webhooks serve`). For a deployed API, host these files anywhere and set the API
// Gateway URL here, e.g. "https://abc123.execute-api.eu-west-1.amazonaws.com"; the
// console then asks for a token (a JWT for the API's JWT authorizer) on the first 401.
window.WEBHOOKS_CONSOLE = { apiBase: "" };
