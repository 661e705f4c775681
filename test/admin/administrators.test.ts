import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { adminCall, basic, call, fetchWith, json, withinOneRateWindow } from "../support/http";

/**
 * Administrators as accounts (README, "Administrators"): each signs in to the
 * admin API with their own name and password (HTTP Basic), or the ADMIN_TOKEN
 * acts as an admin; a viewer may only read; the last admin cannot be lost.
 */

const someName = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}`;
let addresses = 0;
/** Each caller its own address, so lock-outs and rate limits of one test never reach another. */
const newAddress = () => `198.51.100.${++addresses}`;

async function newAdministrator(role: "admin" | "viewer") {
  const username = someName(role);
  const password = `pw-${crypto.randomUUID()}`;
  const res = await adminCall("POST", "/admin/administrators", { username, password, role });
  expect(res.status).toBe(201);
  return { username, password, role };
}

function as(
  who: { username: string; password: string },
  method: string,
  path: string,
  body?: unknown,
  address = newAddress(),
) {
  return call(path, {
    method,
    headers: {
      Authorization: basic(who.username, who.password),
      "CF-Connecting-IP": address,
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

describe("administrator accounts", () => {
  it("an admin signs in with their own name and password and may read and change", async () => {
    const admin = await newAdministrator("admin");
    const listed = await as(admin, "GET", "/admin/administrators");
    expect(listed.status).toBe(200);
    const { administrators } = await json<{ administrators: { username: string; role: string }[] }>(
      listed,
    );
    expect(administrators).toContainEqual(
      expect.objectContaining({ username: admin.username, role: "admin" }),
    );
    expect(JSON.stringify(administrators)).not.toMatch(/password|pbkdf2|salt/);
    const created = await as(admin, "POST", "/admin/clients", {
      client_name: "Made by an admin",
      client_type: "public",
      redirect_uris: ["https://app.example/cb"],
    });
    expect(created.status).toBe(201);
  });

  it("names compare in any case, and a wrong password, an unknown name or garbage is 401 with a Bearer challenge only", async () => {
    const admin = await newAdministrator("admin");
    expect(
      (await as({ ...admin, username: admin.username.toUpperCase() }, "GET", "/admin/keys")).status,
    ).toBe(200);
    for (const who of [
      { username: admin.username, password: "wrong-password" },
      { username: someName("nobody"), password: admin.password },
      { username: "", password: "" },
    ]) {
      const res = await as(who, "GET", "/admin/keys");
      expect(res.status).toBe(401);
      // Basic is taken but never asked for: a browser must not be made to prompt and keep it.
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
      expect(await json(res)).toMatchObject({ error: "invalid_token" });
    }
    const garbage = await call("/admin/keys", { headers: { Authorization: "Basic %%%" } });
    expect(garbage.status).toBe(401);
  });

  it("a viewer reads but every mutating route of the admin API refuses it, and nothing changes", async () => {
    const viewer = await newAdministrator("viewer");
    expect((await as(viewer, "GET", "/admin/administrators")).status).toBe(200);
    expect((await as(viewer, "GET", "/admin/keys")).status).toBe(200);
    const before = await json(await adminCall("GET", "/admin/administrators"));
    // Every route the app has under /admin/ with a method that is not a read.
    const mutating = createApp()
      .routes.filter(
        (r) => r.path.startsWith("/admin/") && !["GET", "HEAD", "ALL"].includes(r.method),
      )
      .map((r) => ({ method: r.method, path: r.path.replace(/:[a-z]+/g, "x") }));
    expect(mutating.length).toBeGreaterThanOrEqual(15);
    const address = newAddress();
    for (const route of mutating) {
      const res = await as(viewer, route.method, route.path, {}, address);
      expect({ route, status: res.status }).toEqual({ route, status: 403 });
      expect(await json(res)).toMatchObject({ error: "access_denied" });
    }
    expect(await json(await adminCall("GET", "/admin/administrators"))).toEqual(before);
  });

  it("five failures in a row from one address lock the name for that address, not for another", async () => {
    const admin = await newAdministrator("admin");
    const attacker = newAddress();
    for (let i = 0; i < 5; i++)
      expect(
        (await as({ ...admin, password: "guess" }, "GET", "/admin/keys", undefined, attacker))
          .status,
      ).toBe(401);
    const locked = await as(
      { ...admin, password: "guess" },
      "GET",
      "/admin/keys",
      undefined,
      attacker,
    );
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Now even the right password is refused from there; the owner's own address still works.
    expect((await as(admin, "GET", "/admin/keys", undefined, attacker)).status).toBe(429);
    expect((await as(admin, "GET", "/admin/keys", undefined, newAddress())).status).toBe(200);
  });

  it("parallel guesses are all counted before any password is checked: at most five get a verdict", async () => {
    const admin = await newAdministrator("admin");
    const attacker = newAddress();
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        as({ ...admin, password: "guess" }, "GET", "/admin/keys", undefined, attacker),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toEqual([]);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(6);
  });

  it("the sign-in rate limit per address is in front of the object (RATE_LIMITS=on)", async () => {
    await withinOneRateWindow(); // the count of one minute window
    const address = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetchWith(
        { RATE_LIMITS: "on" },
        new Request("https://auth.example.test/admin/keys", {
          headers: {
            Authorization: basic(someName("guess"), "guess-guess"),
            "CF-Connecting-IP": address,
          },
        }),
      );
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 9).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  }, 60_000);

  it("a new password replaces the old one at once", async () => {
    const admin = await newAdministrator("admin");
    const res = await adminCall("PUT", `/admin/administrators/${admin.username}/password`, {
      password: "a-brand-new-password",
    });
    expect(res.status).toBe(204);
    expect((await as(admin, "GET", "/admin/keys")).status).toBe(401);
    expect(
      (await as({ ...admin, password: "a-brand-new-password" }, "GET", "/admin/keys")).status,
    ).toBe(200);
  });

  it("a role change takes effect on the next request", async () => {
    const admin = await newAdministrator("admin");
    const patched = await adminCall("PATCH", `/admin/administrators/${admin.username}`, {
      role: "viewer",
    });
    expect(await json(patched)).toMatchObject({ username: admin.username, role: "viewer" });
    expect((await as(admin, "POST", "/admin/keys/rotate")).status).toBe(403);
  });

  it("refuses bad bodies with the field they name, and a taken name with 409", async () => {
    const admin = await newAdministrator("admin");
    const cases: [unknown, string][] = [
      [{ username: "x", password: "long-enough", role: "owner" }, "role"],
      [{ username: "x", password: "short", role: "admin" }, "password"],
      [{ username: "a b", password: "long-enough", role: "admin" }, "username"],
      [{ password: "long-enough", role: "admin" }, "username"],
      [{ username: "x", password: "long-enough", role: "admin", extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      const res = await adminCall("POST", "/admin/administrators", body);
      expect(res.status).toBe(400);
      expect((await json<{ error_description: string }>(res)).error_description).toContain(field);
    }
    const taken = await adminCall("POST", "/admin/administrators", {
      username: admin.username.toUpperCase(),
      password: "long-enough",
      role: "viewer",
    });
    expect(taken.status).toBe(409);
    expect((await adminCall("DELETE", "/admin/administrators/nobody-here")).status).toBe(404);
  });
});

describe("the last admin", () => {
  it("cannot be demoted or removed, even by two racing requests", async () => {
    const { administrators } = await json<{ administrators: { username: string; role: string }[] }>(
      await adminCall("GET", "/admin/administrators"),
    );
    const first = await newAdministrator("admin");
    const second = await newAdministrator("admin");
    for (const other of administrators.filter((a) => a.role === "admin"))
      await adminCall("PATCH", `/admin/administrators/${other.username}`, { role: "viewer" });
    // Each admin demotes the other at the same moment: one of them must stay an admin.
    const [a, b] = await Promise.all([
      as(first, "PATCH", `/admin/administrators/${second.username}`, { role: "viewer" }),
      as(second, "PATCH", `/admin/administrators/${first.username}`, { role: "viewer" }),
    ]);
    // The loser is refused as the last admin (409), or, if the winner's change landed before
    // its own credentials were checked, as the viewer it has become (403).
    const statuses = [a.status, b.status];
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409 || s === 403)).toHaveLength(1);
    const left = (
      await json<{ administrators: { username: string; role: string }[] }>(
        await adminCall("GET", "/admin/administrators"),
      )
    ).administrators.filter((x) => x.role === "admin");
    expect(left).toHaveLength(1);
    const last = left[0]?.username as string;
    expect((await adminCall("DELETE", `/admin/administrators/${last}`)).status).toBe(409);
    expect(
      (await adminCall("PATCH", `/admin/administrators/${last}`, { role: "viewer" })).status,
    ).toBe(409);
  });
});

describe("the ADMIN_TOKEN", () => {
  it("acts as an admin, and without it set (outside development) only administrators get in", async () => {
    const admin = await newAdministrator("admin");
    const off = { ADMIN_TOKEN: "" };
    const token = await fetchWith(off, "/admin/keys", {
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(token.status).toBe(403);
    const basicAuth = await fetchWith(off, "/admin/keys", {
      headers: { Authorization: basic(admin.username, admin.password) },
    });
    expect(basicAuth.status).toBe(200);
  });
});

describe("the admin API and browsers", () => {
  it("refuses a change sent from another site, even with an administrator's Basic credentials, and changes nothing", async () => {
    const admin = await newAdministrator("admin");
    const before = await json(await adminCall("GET", "/admin/administrators"));
    const body = { username: someName("csrf"), password: "long-enough-password", role: "admin" };
    for (const headers of [
      { Origin: "https://evil.example" },
      { "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "same-site" },
    ] as Record<string, string>[]) {
      const res = await call("/admin/administrators", {
        method: "POST",
        headers: {
          Authorization: basic(admin.username, admin.password),
          "Content-Type": "application/json",
          "CF-Connecting-IP": newAddress(),
          ...headers,
        },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(403);
    }
    expect(await json(await adminCall("GET", "/admin/administrators"))).toEqual(before);
    // A read from a page of another site is no change; the same origin, or no browser at all, may change.
    const read = await call("/admin/keys", {
      headers: {
        Authorization: basic(admin.username, admin.password),
        Origin: "https://evil.example",
      },
    });
    expect(read.status).toBe(200);
    const sameOrigin = await call("/admin/administrators", {
      method: "POST",
      headers: {
        Authorization: basic(admin.username, admin.password),
        "Content-Type": "application/json",
        Origin: "https://auth.example.test",
        "Sec-Fetch-Site": "same-origin",
      },
      body: JSON.stringify(body),
    });
    expect(sameOrigin.status).toBe(201);
  });

  it("keeps the audit trail's own actor names for itself", async () => {
    for (const username of ["admin-token", "ADMIN", "admin"]) {
      const res = await adminCall("POST", "/admin/administrators", {
        username,
        password: "long-enough-password",
        role: "viewer",
      });
      expect(res.status).toBe(400);
    }
  });

  it("records a role change, with who made it, as a security event", async () => {
    const admin = await newAdministrator("admin");
    const target = await newAdministrator("viewer");
    const res = await as(admin, "PATCH", `/admin/administrators/${target.username}`, {
      role: "admin",
    });
    expect(res.status).toBe(200);
    await expect
      .poll(async () => {
        const page = await json<{ events: { type: string; actor?: string }[] }>(
          await adminCall("GET", "/admin/events?type=administrator.updated"),
        );
        return page.events.some((e) => e.actor === admin.username);
      })
      .toBe(true);
  });
});

describe("a sign-in racing a password change", () => {
  it("counts for nothing once the hash it checked is no longer the account's", async () => {
    const admin = await newAdministrator("admin");
    const team = env.ADMINISTRATORS.getByName("administrators");
    const start = await team.beginSignIn(admin.username, "race-address");
    expect(start.ok).toBe(true);
    const checkedHash = (start as { hash: string }).hash;
    await adminCall("PUT", `/admin/administrators/${admin.username}/password`, {
      password: "changed-meanwhile",
    });
    const late = await team.completeSignIn(
      admin.username,
      "race-address",
      checkedHash,
      true,
      "test",
    );
    expect(late).toEqual({ ok: false, reason: "invalid" });
  });
});
