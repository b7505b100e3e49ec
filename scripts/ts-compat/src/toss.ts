// The seven Toss Payments flows of the original suite (test/features/toss),
// the fake driven with toss-payments-server-api.
import toss from "toss-payments-server-api";
import typia from "typia";

import { check, Context, equal, source, TOSS_STORE_ID } from "./harness";
import { cancelFull, cancelPartial, History, paidByDeposit, register, reserve } from "./payments";

const VBANK_ACCOUNT = {
  bank: "신한은행",
  account: "110123456789",
  holder: "홍길동",
  mobile: "01012345678",
};

/** cardPayment keys in a card payment of 20,000 left for us to approve. */
export async function cardPayment(ctx: Context, webhookURL = ctx.internalWebhookURL): Promise<History> {
  const src = source();
  const p = await toss.functional.v1.payments.key_in(ctx.toss, {
    method: "card",
    cardNumber: "1111222233334444",
    cardExpirationYear: "24",
    cardExpirationMonth: "03",
    orderId: src.id,
    amount: 20_000,
    __approved: false,
  });
  ctx.fake("toss.payments", "POST /v1/payments/key-in", typia.validate<toss.functional.v1.payments.key_in.Output>(p), p);
  const h = await register(
    ctx,
    { code: "toss.payments", store_id: TOSS_STORE_ID, uid: p.paymentKey },
    src,
    20_000,
    webhookURL,
  );
  check(h.vendor_code === "toss.payments", "vendor_code");
  equal(h.data.status, "DONE", "data.status after our approve");
  check(h.paid_at !== null, "an approved card payment is paid");
  return h;
}

/** vbankPayment opens a virtual account of 19,900 and deposits into it. */
export async function vbankPayment(ctx: Context): Promise<History> {
  const src = source();
  const p = await toss.functional.v1.virtual_accounts.create(ctx.toss, {
    method: "virtual-account",
    bank: "신한",
    customerName: "Samchon",
    orderId: src.id,
    orderName: "something",
    amount: 19_900,
    __approved: false,
  });
  ctx.fake(
    "toss.payments",
    "POST /v1/virtual-accounts",
    typia.validate<toss.functional.v1.virtual_accounts.create.Output>(p),
    p,
  );
  const h = await register(
    ctx,
    { code: "toss.payments", store_id: TOSS_STORE_ID, uid: p.paymentKey },
    src,
    19_900,
    ctx.receiver.url(),
  );
  const d = await toss.functional.internal.deposit(ctx.toss, p.paymentKey);
  ctx.fake(
    "toss.payments",
    "PUT /internal/:paymentKey/deposit",
    typia.validate<toss.functional.internal.deposit.Output>(d),
    d,
  );
  await paidByDeposit(ctx, h);
  return h;
}

/** subscription issues a billing key (customerKey = source.id). */
export async function subscription(ctx: Context): Promise<void> {
  const src = source();
  const b = await toss.functional.v1.billing.authorizations.card.create(ctx.toss, {
    customerKey: src.id,
    cardNumber: "1111222233334444",
    cardExpirationYear: "28",
    cardExpirationMonth: "03",
    cardPassword: "99",
    customerBirthday: "880311",
    consumerName: "남정호",
  });
  ctx.fake(
    "toss.payments",
    "POST /v1/billing/authorizations/card",
    typia.validate<toss.functional.v1.billing.authorizations.card.create.Output>(b),
    b,
  );
  const r = await reserve(ctx, { code: "toss.payments", store_id: TOSS_STORE_ID, uid: b.billingKey }, src);
  check(r.vendor_code === "toss.payments" && r.data.billingKey === b.billingKey, "reservation data.billingKey");
}

/** flows lists the Toss flows under the original's test names. */
export const flows: [string, (ctx: Context) => Promise<unknown>][] = [
  ["test_api_toss_card_payment", (ctx) => cardPayment(ctx)],
  ["test_api_toss_card_payment_cancel", async (ctx) => cancelFull(ctx, await cardPayment(ctx, ctx.receiver.url()), null)],
  ["test_api_toss_card_payment_cancel_partial", async (ctx) => cancelPartial(ctx, await cardPayment(ctx, ctx.receiver.url()), null)],
  ["test_api_toss_subscription_payment", subscription],
  ["test_api_toss_vbank_payment", vbankPayment],
  ["test_api_toss_vbank_payment_cancel", async (ctx) => cancelFull(ctx, await vbankPayment(ctx), VBANK_ACCOUNT)],
  ["test_api_toss_vbank_payment_cancel_partial", async (ctx) => cancelPartial(ctx, await vbankPayment(ctx), VBANK_ACCOUNT)],
];
