import assert from "node:assert/strict";
import { addressKey, createLoginThrottle, type Reservation } from "../../../lib/auth/throttle.ts";

const allowed = (r: Reservation) => r.allowed;

Deno.test("throttle: reservations count before the check, per pair, per address and globally", () => {
  const throttle = createLoginThrottle({ perPair: 3, perAddress: 5, global: 8, windowMs: 60_000 });
  const now = 1_000_000;
  // Three in flight at once for one pair: the fourth is refused before any is verified.
  const inFlight = [1, 2, 3].map(() => throttle.reserve("Admin", "10.0.0.1", now));
  assert.ok(inFlight.every(allowed));
  const fourth = throttle.reserve("admin", "10.0.0.1", now);
  assert.equal(fourth.allowed, false, "account names count case-insensitively");
  assert.equal(!fourth.allowed && fourth.retryAfter, 60);
  // The same address, other accounts: two more, then the address is full.
  assert.ok(throttle.reserve("x", "10.0.0.1", now).allowed);
  assert.ok(throttle.reserve("y", "10.0.0.1", now).allowed);
  assert.equal(throttle.reserve("z", "10.0.0.1", now).allowed, false);
  // Another address is not affected until the global cap (8) is reached.
  assert.ok(throttle.reserve("admin", "10.0.0.2", now).allowed);
  assert.ok(throttle.reserve("admin", "10.0.0.2", now).allowed);
  assert.ok(throttle.reserve("admin", "10.0.0.2", now).allowed);
  assert.equal(throttle.reserve("q", "10.0.0.3", now).allowed, false, "global cap");
  // The window slides.
  assert.ok(throttle.reserve("admin", "10.0.0.1", now + 60_000).allowed);
});

Deno.test("throttle: cancel refunds; success refunds, clears the pair and trusts it past the caps", () => {
  const throttle = createLoginThrottle({ perPair: 2, perAddress: 2, global: 3, windowMs: 60_000 });
  const now = 5_000_000;
  const first = throttle.reserve("owner", "192.0.2.1", now);
  assert.ok(first.allowed);
  first.cancel();
  first.cancel(); // twice is once
  const wrong = throttle.reserve("owner", "192.0.2.1", now);
  const right = throttle.reserve("owner", "192.0.2.1", now);
  assert.ok(wrong.allowed && right.allowed);
  right.succeeded();
  // Failures from elsewhere fill the global cap...
  for (const address of ["198.51.100.1", "198.51.100.2"]) {
    throttle.reserve("owner", address, now);
  }
  assert.equal(throttle.reserve("owner", "203.0.113.9", now).allowed, false, "cap reached");
  // ...but the pair that signed in lately still may, and only up to its own limit.
  assert.ok(throttle.reserve("owner", "192.0.2.1", now).allowed);
  assert.ok(throttle.reserve("owner", "192.0.2.1", now).allowed);
  assert.equal(throttle.reserve("owner", "192.0.2.1", now).allowed, false);
});

Deno.test("throttle: memory is bounded, least recently used keys go first", () => {
  const throttle = createLoginThrottle({ perPair: 1, perAddress: 1000, maxKeys: 100 });
  const now = 9_000_000;
  assert.ok(throttle.reserve("victim", "10.1.0.1", now).allowed);
  assert.equal(throttle.reserve("victim", "10.1.0.1", now).allowed, false);
  for (let i = 0; i < 100; i++) throttle.reserve(`spray-${i}`, "10.1.0.2", now);
  assert.ok(throttle.reserve("victim", "10.1.0.1", now).allowed, "the oldest pair was forgotten");
});

Deno.test("addressKey: IPv4 as is (also mapped), IPv6 by its /64", () => {
  assert.equal(addressKey("192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(addressKey("2001:db8:1:2::5"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:0db8:0001:0002:ffff:0:0:1"), "2001:db8:1:2::/64");
  assert.equal(addressKey("[2001:db8::1]"), "2001:db8:0:0::/64");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
  assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(addressKey("64:ff9b::192.0.2.1"), "64:ff9b:0:0::/64");
  assert.equal(addressKey("local"), "local");
  assert.equal(addressKey("1:2:3"), "1:2:3", "not an address: kept as it is");
});
