// How responses are judged. Our server's own fields must match the
// original SDK's types exactly (typia, as the original's tests do). The PG
// objects it passes through (`data`) come from the fakes, so a mismatch
// there is recorded as a finding against the fake and judged by the
// fake_* checks at the end, instead of hiding the server checks behind it.
import type { IPaymentHistory } from "payment-backend/lib/api/structures/payments/IPaymentHistory";
import type { IPaymentWebhookHistory } from "payment-backend/lib/api/structures/payments/IPaymentWebhookHistory";
import type { IValidation } from "typia";

/**
 * Relaxed<T> checks webhook_url as a plain string. The 4.0.0 SDK declares
 * it `Format<"url">`, which in typia 5 (the original's) accepted loopback
 * addresses such as the original suite's own
 * http://127.0.0.1:37821/payments/internal/webhook; typia 8 (needed by the
 * fakes' SDKs) rejects loopback and private addresses. The flows compare
 * the value with what they registered instead.
 */
export type Relaxed<T> = T extends unknown ? Omit<T, "webhook_url"> & { webhook_url: null | string } : never;

/** WebhookHistory is IPaymentWebhookHistory with Relaxed snapshots. */
export interface WebhookHistory extends Omit<IPaymentWebhookHistory, "previous" | "current"> {
  previous: Relaxed<IPaymentWebhookHistory.IHistory>;
  current: Relaxed<IPaymentWebhookHistory.IHistory>;
}

/** History is a payment history as the SDK types it (webhook_url relaxed). */
export type History = Relaxed<IPaymentHistory.IamportType> | Relaxed<IPaymentHistory.TossType>;

export type Vendor = "iamport" | "toss.payments";

/** Finding is one place where a fake's output differs from its SDK's type. */
export interface Finding {
  where: string;
  path: string;
  expected: string;
  value: string;
}

/** Findings collects the fakes' mismatches, one entry per place and path. */
export class Findings {
  private readonly byVendor = new Map<Vendor, Map<string, Finding>>();

  record(vendor: Vendor, where: string, errors: IValidation.IError[]): void {
    let m = this.byVendor.get(vendor);
    if (!m) this.byVendor.set(vendor, (m = new Map()));
    for (const e of errors) {
      const path = e.path.replace(/\[\d+\]/g, "[]");
      const key = `${where} ${path}`;
      if (!m.has(key)) m.set(key, { where, path, expected: e.expected, value: JSON.stringify(e.value) });
    }
  }

  of(vendor: Vendor): Finding[] {
    return [...(this.byVendor.get(vendor)?.values() ?? [])];
  }
}

const PG_DATA = /^\$input(\.current|\.previous)?\.data(\.|\[|$)/;

/** split separates errors inside the passed-through PG object from the rest. */
export function split(errors: IValidation.IError[]): { own: IValidation.IError[]; pg: IValidation.IError[] } {
  return {
    own: errors.filter((e) => !PG_DATA.test(e.path)),
    pg: errors.filter((e) => PG_DATA.test(e.path)),
  };
}

/** render lists validation errors for a failure message. */
export function render(errors: IValidation.IError[], max = 10): string {
  return errors
    .slice(0, max)
    .map((e) => `${e.path}: expected ${e.expected}, got ${JSON.stringify(e.value)?.slice(0, 200)}`)
    .join("; ");
}
