"""The REST door: routes, parameters, rendering and the contract (request and response shapes, the OpenAPI document)."""
