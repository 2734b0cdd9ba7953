// A TypeScript team's REST client: openapi-fetch over the types openapi-typescript
// generated from the live document (rest.ts), walking an invoice's whole life and each
// error answer. No casts anywhere: every value is narrowed by the generated types.
import createClient from "openapi-fetch";
import type { paths } from "./rest.js";
import { check } from "./check.js";
import { apiKey, baseUrl } from "./target.js";

// Headers the document declares where they occur (ETag on reads and writes, 304 on a
// conditional read, Retry-After on 429/503): indexing an undeclared one fails to compile.
type InvoiceRead = paths["/api/v1/invoices/{invoice_id}"]["get"]["responses"];
type ReadETag = InvoiceRead[200]["headers"]["ETag"];
type NotModified = InvoiceRead[304];
type RetryAfter = paths["/api/v1/invoices"]["post"]["responses"][429]["headers"]["Retry-After"];
type Unavailable = paths["/api/v1/invoices"]["post"]["responses"][503]["headers"]["Retry-After"];
type Remaining = paths["/api/v1/invoices"]["get"]["responses"][200]["headers"]["RateLimit-Remaining"];

function header(response: Response, name: string): string | undefined {
  return response.headers.get(name) ?? undefined;
}

export async function restFlow(): Promise<void> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });

  // Clients: create, change (the answer is the whole client), a page of them.
  const made = await api.POST("/api/v1/clients", {
    body: { name: "Acme Corp", email: "billing@acme.example" },
    params: { header: { "Idempotency-Key": "typed-rest-client-1" } },
  });
  if (!made.data) throw new Error(`createClient: ${made.response.status}`);
  const clientId: string = made.data.data.id;
  // The same key and body again: the first answer, replayed; another body: refused.
  const again = await api.POST("/api/v1/clients", {
    body: { name: "Acme Corp", email: "billing@acme.example" },
    params: { header: { "Idempotency-Key": "typed-rest-client-1" } },
  });
  check(again.data?.data.id === clientId && header(again.response, "Idempotent-Replayed") === "true", "replayed");
  const reused = await api.POST("/api/v1/clients", {
    body: { name: "Another Corp" },
    params: { header: { "Idempotency-Key": "typed-rest-client-1" } },
  });
  check(reused.error?.code === "IDEMPOTENCY_KEY_REUSED" && reused.response.status === 422, "a key reused is 422");
  const changed = await api.PATCH("/api/v1/clients/{client_id}", {
    params: { path: { client_id: clientId } },
    body: { phone: "+1 555 0100" },
  });
  if (!changed.data) throw new Error(`updateClient: ${changed.response.status}`);
  check(changed.data.data.name === "Acme Corp", "the changed client is answered whole");
  const clients = await api.GET("/api/v1/clients", { params: { query: { page: 1, limit: 100 } } });
  if (!clients.data) throw new Error(`listClients: ${clients.response.status}`);
  check(clients.data.data.some((row) => row.id === clientId), "the client is listed");
  const remaining: Remaining = Number(header(clients.response, "RateLimit-Remaining"));
  check(remaining >= 0, "RateLimit-Remaining is a count");

  // Invoices: create and edit answer the whole detail (no second read).
  const created = await api.POST("/api/v1/invoices", {
    body: {
      clientId,
      currency: "USD",
      lineItems: [{ description: "Web development", quantity: 2, unitPrice: "125.00", taxRate: 10 }],
    },
  });
  if (!created.data) throw new Error(`createInvoice: ${created.response.status}`);
  const invoice = created.data.data;
  const invoiceId: string = invoice.id;
  check(invoice.lineItems.length === 1 && invoice.client.name === "Acme Corp", "a new invoice is answered whole");
  const etag: ReadETag | undefined = header(created.response, "ETag");
  const edited = await api.PATCH("/api/v1/invoices/{invoice_id}", {
    params: { path: { invoice_id: invoiceId }, header: { "If-Match": etag ?? "*" } },
    body: { notes: "Thank you" },
  });
  if (!edited.data) throw new Error(`updateInvoice: ${edited.response.status}`);
  check(edited.data.data.notes === "Thank you" && edited.data.data.balanceDue === 275, "the edit is answered whole");
  const replaced = await api.PUT("/api/v1/invoices/{invoice_id}", {
    params: { path: { invoice_id: invoiceId } },
    // What was read is sent back as it is: the currency read is one the input takes.
    body: {
      clientId,
      currency: invoice.currency,
      lineItems: [{ description: "Web development", quantity: 2, unitPrice: 125, taxRate: 10 }],
    },
  });
  if (!replaced.data) throw new Error(`replaceInvoice: ${replaced.response.status}`);
  check(replaced.data.data.status === "DRAFT" && replaced.data.data.total === 275, "the replacement is answered whole");

  // A conditional read of a current copy: 304, no body.
  const current = header(replaced.response, "ETag");
  if (current !== undefined) {
    const same = await api.GET("/api/v1/invoices/{invoice_id}", {
      params: { path: { invoice_id: invoiceId }, header: { "If-None-Match": current } },
    });
    const notModified: NotModified | undefined = undefined;
    check(same.response.status === 304 && notModified === undefined, "a current copy is 304");
  }

  // Send with the body's optional fields left out; then pay, reverse, pay the rest.
  const sent = await api.POST("/api/v1/invoices/{invoice_id}/send", {
    params: { path: { invoice_id: invoiceId } },
    body: { email: false },
  });
  if (!sent.data) throw new Error(`sendInvoice: ${sent.response.status}`);
  check(sent.data.data.status === "SENT" && sent.data.data.sentAt !== null, "sent");
  const paid = await api.POST("/api/v1/invoices/{invoice_id}/payments", {
    params: { path: { invoice_id: invoiceId } },
    body: { amount: "75.00" },
  });
  if (!paid.data) throw new Error(`recordPayment: ${paid.response.status}`);
  const paymentId: string = paid.data.data.id;
  check(paid.data.data.invoice.status === "PARTIALLY_PAID" && paid.data.data.invoice.balanceDue === 200, "partly paid");
  const payments = await api.GET("/api/v1/invoices/{invoice_id}/payments", {
    params: { path: { invoice_id: invoiceId } },
  });
  if (!payments.data) throw new Error(`listPayments: ${payments.response.status}`);
  check(payments.data.data.length === 1, "one payment listed");
  const reversed = await api.DELETE("/api/v1/invoices/{invoice_id}/payments/{payment_id}", {
    params: { path: { invoice_id: invoiceId, payment_id: paymentId } },
  });
  if (!reversed.data) throw new Error(`reversePayment: ${reversed.response.status}`);
  check(reversed.data.data.reversedAt !== null && reversed.data.data.invoice.status === "SENT", "reversed");

  // The PDF, as bytes.
  const pdf = await api.GET("/api/v1/invoices/{invoice_id}/pdf", {
    params: { path: { invoice_id: invoiceId } },
    parseAs: "arrayBuffer",
  });
  if (!pdf.data) throw new Error(`getInvoicePdf: ${pdf.response.status}`);
  check(new TextDecoder().decode(pdf.data.slice(0, 5)) === "%PDF-", "a PDF");

  // Void, then the history: each event's changes typed by its type.
  const voided = await api.POST("/api/v1/invoices/{invoice_id}/void", {
    params: { path: { invoice_id: invoiceId } },
    body: { reason: "Issued in error" },
  });
  if (!voided.data) throw new Error(`voidInvoice: ${voided.response.status}`);
  check(voided.data.data.status === "VOID" && voided.data.data.voidReason === "Issued in error", "void");
  const history = await api.GET("/api/v1/invoices/{invoice_id}/history", {
    params: { path: { invoice_id: invoiceId } },
  });
  if (!history.data) throw new Error(`getInvoiceHistory: ${history.response.status}`);
  let paidAmount = 0;
  let sendNumber = 0;
  let sentAt = "";
  for (const entry of history.data.data) {
    if (entry.type === "paymentRecorded") paidAmount += entry.changes.payment.amount;
    if (entry.type === "sent") {
      sendNumber = entry.changes.send;
      sentAt = entry.occurredAt;
    }
  }
  check(paidAmount === 75 && sendNumber === 1, "the history's changes are typed per event");

  // As of the moment it was sent, and at its first version.
  const asSent = await api.GET("/api/v1/invoices/{invoice_id}", {
    params: { path: { invoice_id: invoiceId }, query: { asOf: sentAt } },
  });
  if (!asSent.data) throw new Error(`getInvoice asOf: ${asSent.response.status}`);
  check(asSent.data.data.status === "SENT", "as of its sending it was SENT");
  const first = await api.GET("/api/v1/invoices/{invoice_id}", {
    params: { path: { invoice_id: invoiceId }, query: { version: 1 } },
  });
  if (!first.data) throw new Error(`getInvoice version: ${first.response.status}`);
  check(first.data.data.status === "DRAFT", "its first version was a draft");

  // Pages: the largest page of invoices and of the account's feed.
  const page = await api.GET("/api/v1/invoices", { params: { query: { page: 1, limit: 100 } } });
  if (!page.data) throw new Error(`listInvoices: ${page.response.status}`);
  check(page.data.total >= 1 && page.data.totalPages >= 1, "a page of invoices");
  const feed = await api.GET("/api/v1/events", { params: { query: { after: 0, limit: 500 } } });
  if (!feed.data) throw new Error(`listEvents: ${feed.response.status}`);
  // The feed's entries are told apart by `event` (record kind and type): its changes typed.
  const recorded = feed.data.data.flatMap((entry) =>
    entry.event === "invoice.paymentRecorded" ? [entry.changes.payment.id] : [],
  );
  check(recorded.length === 1 && recorded[0] === paymentId, "the feed carries the payment, typed");

  // Each error answer, typed as the document's Problem.
  const missing = await api.GET("/api/v1/invoices/{invoice_id}", {
    params: { path: { invoice_id: "00000000-0000-4000-8000-000000000000" } },
  });
  check(missing.error?.code === "NOT_FOUND" && missing.response.status === 404, "404");
  const tooMuch = await api.POST("/api/v1/invoices/{invoice_id}/payments", {
    params: { path: { invoice_id: invoiceId } },
    body: { amount: 1, method: "cash" },
  });
  check(tooMuch.error?.code === "CONFLICT" && tooMuch.response.status === 409, "paying a void invoice is 409");
  const stale = await api.PATCH("/api/v1/clients/{client_id}", {
    params: { path: { client_id: clientId }, header: { "If-Match": 'W/"1"' } },
    body: { notes: "stale" },
  });
  check(stale.error?.code === "PRECONDITION_FAILED" && stale.response.status === 412, "412");
  const badPage = await api.GET("/api/v1/invoices", { params: { query: { limit: 1000 } } });
  check(badPage.error?.code === "VALIDATION_FAILED" && badPage.response.status === 400, "400");
  const noLines = await api.POST("/api/v1/invoices", { body: { clientId, lineItems: [] } });
  check(noLines.error?.field === "lineItems" && noLines.response.status >= 400, "an empty invoice is refused");
  const stranger = createClient<paths>({ baseUrl, headers: { Authorization: "Bearer ci_live_unknown" } });
  const refused = await stranger.GET("/api/v1/clients", {});
  check(refused.error?.code === "UNAUTHENTICATED" && refused.response.status === 401, "401");
  const retryAfter: RetryAfter | Unavailable | undefined = undefined;
  check(retryAfter === undefined, "Retry-After is declared where it occurs");
}
