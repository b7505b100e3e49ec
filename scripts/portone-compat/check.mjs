// Drives paymentctl's fake PortOne V2 with the official @portone/server-sdk,
// unchanged, and verifies every webhook the fake sent with the SDK's own
// Webhook.verify. Run by run.sh, which starts `paymentctl fake` and passes:
//
//   PORTONE_COMPAT_URL             the fake's base URL
//   PORTONE_COMPAT_SECRET          its API secret
//   PORTONE_COMPAT_WEBHOOK_SECRET  its webhook secret (whsec_...)
//   PORTONE_COMPAT_RECEIVER_PORT   where to listen for its webhooks
//
// Prints "PASS <flow>" or "FAIL <flow>: <why>" per flow, then
// "N passed, N failed"; exits 1 if any flow failed.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { PortOneClient, Payment, Webhook, RestError, PortOneError } from "@portone/server-sdk";

const baseUrl = need("PORTONE_COMPAT_URL");
const secret = need("PORTONE_COMPAT_SECRET");
const webhookSecret = need("PORTONE_COMPAT_WEBHOOK_SECRET");
const receiverPort = Number(need("PORTONE_COMPAT_RECEIVER_PORT"));

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`portone-compat: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const client = PortOneClient({ secret, baseUrl });

// --- the webhook receiver: keeps every delivery as it arrived ---------------

const received = []; // {body: string, headers: object}
const receiver = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    received.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
});
await new Promise((resolve) => receiver.listen(receiverPort, "127.0.0.1", resolve));

// --- helpers -----------------------------------------------------------------

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// internal calls one of the fake's own routes, as the customer's browser.
async function internal(path, body) {
  const res = await fetch(new URL(path, baseUrl), {
    method: "POST",
    headers: { Authorization: `PortOne ${secret}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function checkout(paymentId, totalAmount, extra = {}) {
  return internal("/internal/checkout", { paymentId, orderName: "portone-compat", totalAmount, currency: "KRW", ...extra });
}

// rejects runs fn and checks that the SDK threw errorClass (a subclass of
// PaymentError, RestError and PortOneError) with data.type type.
async function rejects(fn, errorClass, type) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert(err !== undefined, `expected ${errorClass.name} ${type}, got success`);
  assert(err instanceof errorClass, `expected ${errorClass.name}, got ${err?.constructor?.name}: ${err?.message}`);
  assert(err instanceof RestError && err instanceof PortOneError, `${err.constructor.name} is not a RestError/PortOneError`);
  assert(err.data?.type === type, `expected data.type ${type}, got ${JSON.stringify(err.data)}`);
  return err;
}

async function getRecognised(paymentId, status) {
  const p = await client.payment.getPayment({ paymentId });
  assert(!Payment.isUnrecognizedPayment(p), `payment ${paymentId} (${p.status}) is unrecognised`);
  assert(p.status === status, `payment ${paymentId} is ${p.status}, want ${status}`);
  assert(p.id === paymentId && typeof p.transactionId === "string" && typeof p.amount?.total === "number", `payment ${paymentId} lacks required fields`);
  return p;
}

const flows = [];
const flow = (name, fn) => flows.push({ name, fn });
const run = randomUUID().slice(0, 8); // ids unique per run

// --- flows -------------------------------------------------------------------

flow("get payment: every status is a recognised variant", async () => {
  const card = `card-${run}`;
  await checkout(card, 10000);
  const paid = await getRecognised(card, "PAID");
  assert(paid.paidAt && Array.isArray(paid.disputes) && paid.channel?.type === "TEST", "PAID lacks paidAt, disputes or channel");
  assert(paid.method?.type === "PaymentMethodCard", `method ${paid.method?.type}`);

  const easy = `easy-${run}`;
  await checkout(easy, 3000, { payMethod: "EASY_PAY", easyPayProvider: "KAKAOPAY" });
  const ep = await getRecognised(easy, "PAID");
  assert(ep.method?.type === "PaymentMethodEasyPay" && ep.method.provider === "KAKAOPAY", `easy pay method ${JSON.stringify(ep.method)}`);

  const va = `va-${run}`;
  await checkout(va, 5000, { payMethod: "VIRTUAL_ACCOUNT" });
  const issued = await getRecognised(va, "VIRTUAL_ACCOUNT_ISSUED");
  assert(issued.method?.type === "PaymentMethodVirtualAccount" && issued.method.accountNumber, "no virtual account");
  await internal(`/internal/payments/${encodeURIComponent(va)}/deposit`, {});
  await getRecognised(va, "PAID");

  for (const [outcome, status] of [["READY", "READY"], ["PAY_PENDING", "PAY_PENDING"], ["DECLINE", "FAILED"]]) {
    const id = `${outcome.toLowerCase()}-${run}`;
    await checkout(id, 1000, { outcome });
    const p = await getRecognised(id, status);
    if (status === "FAILED") assert(p.failedAt && p.failure, "FAILED lacks failedAt or failure");
  }
  await rejects(() => client.payment.getPayment({ paymentId: `nobody-${run}` }), Payment.GetPaymentError, "PAYMENT_NOT_FOUND");
});

flow("partial cancels until the balance is gone", async () => {
  const id = `partial-${run}`;
  await checkout(id, 10000);
  let balance = 10000;
  for (const amount of [1000, 2000, 3000, 4000]) {
    const { cancellation } = await client.payment.cancelPayment({
      paymentId: id, amount, reason: "portone-compat partial", currentCancellableAmount: balance,
    });
    assert(cancellation.status === "SUCCEEDED" && cancellation.totalAmount === amount, `cancellation ${JSON.stringify(cancellation)}`);
    balance -= amount;
    const p = await getRecognised(id, balance === 0 ? "CANCELLED" : "PARTIAL_CANCELLED");
    assert(p.amount.cancelled === 10000 - balance, `cancelled ${p.amount.cancelled}, want ${10000 - balance}`);
    assert(p.cancellations.length === [1000, 2000, 3000, 4000].indexOf(amount) + 1, "cancellations not appended");
  }
  await rejects(
    () => client.payment.cancelPayment({ paymentId: id, reason: "again" }),
    Payment.CancelPaymentError, "PAYMENT_ALREADY_CANCELLED");
});

flow("an over-cancel and a stale currentCancellableAmount are refused", async () => {
  const id = `guard-${run}`;
  await checkout(id, 5000);
  await rejects(
    () => client.payment.cancelPayment({ paymentId: id, amount: 5001, reason: "over", currentCancellableAmount: 5000 }),
    Payment.CancelPaymentError, "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT");
  await client.payment.cancelPayment({ paymentId: id, amount: 1000, reason: "first", currentCancellableAmount: 5000 });
  // A retry that still believes 5000 remain.
  await rejects(
    () => client.payment.cancelPayment({ paymentId: id, amount: 1000, reason: "retry", currentCancellableAmount: 5000 }),
    Payment.CancelPaymentError, "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN");
  const p = await getRecognised(id, "PARTIAL_CANCELLED");
  assert(p.amount.cancelled === 1000, `refused cancels changed the payment: cancelled ${p.amount.cancelled}`);
  await checkout(`unpaid-${run}`, 1000, { outcome: "READY" });
  await rejects(
    () => client.payment.cancelPayment({ paymentId: `unpaid-${run}`, reason: "unpaid" }),
    Payment.CancelPaymentError, "PAYMENT_NOT_PAID");
});

flow("pay with a billing key, get it, delete it", async () => {
  const { billingKey } = await internal("/internal/billing-key-checkout", { customer: { id: `customer-${run}` } });
  assert(billingKey, "no billing key issued");
  const info = await client.payment.billingKey.getBillingKeyInfo({ billingKey });
  assert(info.status === "ISSUED" && info.billingKey === billingKey && Array.isArray(info.channels), `billing key ${JSON.stringify(info)}`);

  const paymentId = `sub-${run}`;
  const request = { paymentId, billingKey, orderName: "monthly", amount: { total: 9900 }, currency: "KRW" };
  const { payment } = await client.payment.payWithBillingKey(request);
  assert(payment.pgTxId && payment.paidAt, `payWithBillingKey answered ${JSON.stringify(payment)}`);
  const p = await getRecognised(paymentId, "PAID");
  assert(p.billingKey === billingKey && p.amount.total === 9900, "the payment does not name the billing key");
  await rejects(() => client.payment.payWithBillingKey(request), Payment.PayWithBillingKeyError, "ALREADY_PAID");

  const { deletedAt } = await client.payment.billingKey.deleteBillingKey({ billingKey, reason: "portone-compat" });
  assert(deletedAt, "no deletedAt");
  const deleted = await client.payment.billingKey.getBillingKeyInfo({ billingKey });
  assert(deleted.status === "DELETED" && deleted.deletedAt, `deleted key ${JSON.stringify(deleted)}`);
  await rejects(() => client.payment.billingKey.deleteBillingKey({ billingKey }),
    Payment.BillingKey.DeleteBillingKeyError, "BILLING_KEY_ALREADY_DELETED");
  await rejects(() => client.payment.payWithBillingKey({ ...request, paymentId: `sub2-${run}` }),
    Payment.PayWithBillingKeyError, "BILLING_KEY_ALREADY_DELETED");
  await rejects(() => client.payment.billingKey.getBillingKeyInfo({ billingKey: `billing-key-nobody-${run}` }),
    Payment.BillingKey.GetBillingKeyInfoError, "BILLING_KEY_NOT_FOUND");
});

flow("a wrong secret is refused", async () => {
  const id = `secret-${run}`;
  await checkout(id, 1000);
  const wrong = PortOneClient({ secret: "not-the-secret", baseUrl });
  await rejects(() => wrong.payment.getPayment({ paymentId: id }), Payment.GetPaymentError, "UNAUTHORIZED");
  await rejects(() => wrong.payment.cancelPayment({ paymentId: id, reason: "x" }), Payment.CancelPaymentError, "UNAUTHORIZED");
  // Still paid: nothing was cancelled.
  await getRecognised(id, "PAID");
});

flow("Webhook.verify accepts every webhook the fake sent", async () => {
  // Every flow above announced its changes (run alone, this flow sees
  // none and fails); wait until the deliveries stop.
  let last = -1;
  for (let i = 0; i < 100 && received.length !== last; i++) {
    last = received.length;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert(received.length >= 20, `only ${received.length} webhooks arrived`);
  const types = new Set();
  for (const { body, headers } of received) {
    const hook = await Webhook.verify(webhookSecret, body, headers);
    assert(!Webhook.isUnrecognizedWebhook(hook), `unrecognised webhook ${body}`);
    types.add(hook.type);
  }
  for (const t of ["Transaction.Ready", "Transaction.Paid", "Transaction.VirtualAccountIssued", "Transaction.PartialCancelled",
    "Transaction.Cancelled", "Transaction.Failed", "Transaction.PayPending", "BillingKey.Ready", "BillingKey.Issued", "BillingKey.Deleted"]) {
    assert(types.has(t), `no ${t} webhook among ${[...types].join(", ")}`);
  }
  // And a forged one is not accepted.
  const { body, headers } = received[0];
  let refused = false;
  try {
    await Webhook.verify(webhookSecret, body.replace("Transaction", "Transactiom"), headers);
  } catch (e) {
    refused = e instanceof Webhook.WebhookVerificationError;
  }
  assert(refused, "Webhook.verify accepted a tampered body");
});

// --- run ---------------------------------------------------------------------

const only = process.argv.slice(2);
let passed = 0;
let failed = 0;
for (const { name, fn } of flows) {
  if (only.length > 0 && !only.some((w) => name.includes(w))) continue;
  try {
    await fn();
    console.log(`PASS ${name}`);
    passed++;
  } catch (e) {
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
    failed++;
  }
}
receiver.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
