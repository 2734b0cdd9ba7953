// A TypeScript team's GraphQL client: @urql/core with the typed documents graphql-codegen's
// client preset generated from the live schema (gql/), walking an invoice's whole life and
// each error answer. No casts anywhere: every value is narrowed by the generated types.
import { Client, CombinedError, fetchExchange } from "@urql/core";
import { check } from "./check.js";
import { graphql } from "./gql/index.js";
import { apiKey, baseUrl } from "./target.js";

const CreateClient = graphql(`
  mutation CreateClient($input: ClientInput!, $key: String) {
    createClient(input: $input, idempotencyKey: $key) { id name isActive }
  }
`);
const UpdateClient = graphql(`
  mutation UpdateClient($id: ID!, $input: ClientUpdateInput!) {
    updateClient(id: $id, input: $input) { id name phone }
  }
`);
const CreateInvoice = graphql(`
  mutation CreateInvoice($input: InvoiceInput!) {
    createInvoice(input: $input) { id version currency total status client { id name } }
  }
`);
const UpdateInvoice = graphql(`
  mutation UpdateInvoice($id: ID!, $input: InvoiceUpdateInput!, $expectedVersion: Int) {
    updateInvoice(id: $id, input: $input, expectedVersion: $expectedVersion) { id version notes total }
  }
`);
const SendInvoice = graphql(`
  mutation SendInvoice($id: ID!, $input: SendInvoiceInput) {
    sendInvoice(id: $id, input: $input) { id status sentAt }
  }
`);
const RecordPayment = graphql(`
  mutation RecordPayment($id: ID!, $input: PaymentInput!) {
    recordPayment(id: $id, input: $input) { id amount invoice { id status balanceDue client { name } } }
  }
`);
const ReversePayment = graphql(`
  mutation ReversePayment($id: ID!, $paymentId: ID!) {
    reversePayment(id: $id, paymentId: $paymentId) { id reversedAt invoice { status } }
  }
`);
const VoidInvoice = graphql(`
  mutation VoidInvoice($id: ID!, $reason: String) {
    voidInvoice(id: $id, reason: $reason) { id status voidReason balanceDue }
  }
`);
const InvoiceHistory = graphql(`
  query InvoiceHistory($id: ID!) {
    invoice(id: $id) {
      id
      status
      client { name }
      payments { id amount reversedAt invoice { id } }
      history {
        version
        type
        occurredAt
        actor { type }
        typedChanges {
          __typename
          ... on InvoicePaymentRecordedChanges { payment { id amount } amountPaid balanceDue }
          ... on InvoicePaymentReversedChanges { payment { id reversedAt } }
          ... on InvoiceSentChanges { send email to status }
          ... on InvoiceVoidedChanges { status voidReason }
        }
      }
    }
  }
`);
const InvoiceAsOf = graphql(`
  query InvoiceAsOf($id: ID!, $asOf: DateTime, $version: Int) {
    invoice(id: $id, asOf: $asOf, version: $version) { id status version }
  }
`);
const Pages = graphql(`
  query Pages($limit: Int!, $events: Int!) {
    invoices(limit: $limit) { total totalPages nextCursor data { id client { name } history { type } } }
    clients(limit: $limit) { total pageInfo { hasNextPage endCursor } edges { cursor node { id name } } }
    events(limit: $events) {
      next
      data {
        position
        type
        resource { type id }
        typedChanges { __typename ... on InvoicePaymentRecordedChanges { payment { id amount } } }
      }
    }
  }
`);

// Each error's code (BAD_REQUEST, NOT_FOUND, CONFLICT...) and REST's finer code as its reason.
function extension(error: CombinedError | undefined, name: "code" | "reason" | "field"): unknown {
  return error?.graphQLErrors[0]?.extensions[name];
}

export async function graphqlFlow(): Promise<void> {
  const api = new Client({
    url: `${baseUrl}/graphql`,
    exchanges: [fetchExchange],
    fetchOptions: { headers: { Authorization: `Bearer ${apiKey}` } },
    requestPolicy: "network-only",
  });

  const made = await api.mutation(CreateClient, { input: { name: "Globex" }, key: "typed-graphql-client-1" });
  if (!made.data) throw new Error(`createClient: ${made.error?.message}`);
  const clientId = made.data.createClient.id;
  const changed = await api.mutation(UpdateClient, { id: clientId, input: { phone: "+1 555 0101" } });
  if (!changed.data) throw new Error(`updateClient: ${changed.error?.message}`);
  check(changed.data.updateClient.phone === "+1 555 0101", "client changed");

  const created = await api.mutation(CreateInvoice, {
    input: { clientId, currency: "EUR", lineItems: [{ description: "Design", quantity: "3", unitPrice: "100.00" }] },
  });
  if (!created.data) throw new Error(`createInvoice: ${created.error?.message}`);
  const invoice = created.data.createInvoice;
  check(invoice.client.name === "Globex" && invoice.currency === "EUR", "the invoice's client is always there");
  const edited = await api.mutation(UpdateInvoice, {
    id: invoice.id,
    input: { notes: "Net 30", currency: invoice.currency },
    expectedVersion: invoice.version,
  });
  if (!edited.data) throw new Error(`updateInvoice: ${edited.error?.message}`);
  check(edited.data.updateInvoice.notes === "Net 30", "edited");

  const sent = await api.mutation(SendInvoice, { id: invoice.id });
  if (!sent.data) throw new Error(`sendInvoice: ${sent.error?.message}`);
  check(sent.data.sendInvoice.status === "SENT", "sent");
  const paid = await api.mutation(RecordPayment, { id: invoice.id, input: { amount: "100.00" } });
  if (!paid.data) throw new Error(`recordPayment: ${paid.error?.message}`);
  const payment = paid.data.recordPayment;
  check(payment.invoice.status === "PARTIALLY_PAID" && payment.invoice.client.name === "Globex", "partly paid");
  const reversed = await api.mutation(ReversePayment, { id: invoice.id, paymentId: payment.id });
  if (!reversed.data) throw new Error(`reversePayment: ${reversed.error?.message}`);
  check(reversed.data.reversePayment.reversedAt !== null, "reversed");
  const voided = await api.mutation(VoidInvoice, { id: invoice.id, reason: "Duplicate" });
  if (!voided.data) throw new Error(`voidInvoice: ${voided.error?.message}`);
  check(voided.data.voidInvoice.status === "VOID", "void");

  const read = await api.query(InvoiceHistory, { id: invoice.id });
  const record = read.data?.invoice;
  if (!record) throw new Error(`invoice: ${read.error?.message}`);
  check(record.payments.every((row) => row.invoice.id === invoice.id), "each payment's invoice is there");
  // Each event's changes typed by the event, told apart by __typename.
  let sentAt = "";
  let paidAmount = "";
  let reversedAt: string | null | undefined = null;
  let voidReason: string | null | undefined = null;
  for (const entry of record.history) {
    const changes = entry.typedChanges;
    switch (changes.__typename) {
      case "InvoiceSentChanges":
        check(changes.send === 1 && !changes.email && changes.status === "SENT", "the send's changes");
        sentAt = entry.occurredAt;
        break;
      case "InvoicePaymentRecordedChanges":
        paidAmount = changes.payment.amount;
        break;
      case "InvoicePaymentReversedChanges":
        reversedAt = changes.payment.reversedAt;
        break;
      case "InvoiceVoidedChanges":
        voidReason = changes.voidReason;
        break;
      default:
        break;
    }
  }
  check(Number(paidAmount) === 100 && typeof reversedAt === "string", "payment and reversal in the history");
  check(voidReason === "Duplicate" && sentAt !== "", "void and send in the history");

  const asSent = await api.query(InvoiceAsOf, { id: invoice.id, asOf: sentAt });
  check(asSent.data?.invoice?.status === "SENT", "as of its sending it was SENT");
  const first = await api.query(InvoiceAsOf, { id: invoice.id, version: 1 });
  check(first.data?.invoice?.status === "DRAFT", "its first version was a draft");

  // The same page sizes as REST's largest.
  const pages = await api.query(Pages, { limit: 100, events: 500 });
  if (!pages.data) throw new Error(`pages: ${pages.error?.message}`);
  check(pages.data.invoices.data.every((row) => row.client.name.length > 0), "a page of invoices");
  const payments = pages.data.events.data.flatMap((event) =>
    event.typedChanges.__typename === "InvoicePaymentRecordedChanges" ? [event.typedChanges.payment.id] : [],
  );
  check(payments.includes(payment.id), "the feed carries the payment, typed");

  // Error answers: their codes in the extensions.
  const missing = await api.query(InvoiceAsOf, { id: "00000000-0000-4000-8000-000000000000" });
  check(missing.data?.invoice === null || extension(missing.error, "code") === "NOT_FOUND", "an unknown invoice");
  const late = await api.mutation(RecordPayment, { id: invoice.id, input: { amount: "1" } });
  check(extension(late.error, "code") === "CONFLICT", "paying a void invoice");
  const stale = await api.mutation(UpdateInvoice, { id: invoice.id, input: { notes: "x" }, expectedVersion: 1 });
  check(extension(stale.error, "reason") === "PRECONDITION_FAILED", "a stale version");
  const bad = await api.mutation(CreateInvoice, { input: { clientId, lineItems: [] } });
  const refused = extension(bad.error, "code") === "BAD_REQUEST" && extension(bad.error, "reason") === "VALIDATION_FAILED";
  check(refused && extension(bad.error, "field") === "lineItems", "an empty invoice");
  const stranger = new Client({
    url: `${baseUrl}/graphql`,
    exchanges: [fetchExchange],
    fetchOptions: { headers: { Authorization: "Bearer ci_live_unknown" } },
  });
  const anonymous = await stranger.query(InvoiceAsOf, { id: invoice.id });
  check(extension(anonymous.error, "code") === "UNAUTHENTICATED", "an unknown key");
}
