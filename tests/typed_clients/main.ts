// Runs both doors' flows against the service named in target.ts; prints OK when all held.
import { graphqlFlow } from "./graphql_flow.js";
import { restFlow } from "./rest_flow.js";

await restFlow();
await graphqlFlow();
console.log("OK");
