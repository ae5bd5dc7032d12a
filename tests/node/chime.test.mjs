// Conformance of Belfry with the AWS SDK for JavaScript v3 (@aws-sdk/client-chime), unmodified:
// the built binary is started as a user would start it and driven only through the SDK.
//
//   npm ci --prefix tests/node && BELFRY_BIN=target/debug/belfry npm test --prefix tests/node

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, afterEach, before, describe, it } from "node:test";

import {
  BadRequestException,
  ChimeClient,
  ChimeServiceException,
  CreateAccountCommand,
  GetAccountCommand,
  InviteUsersCommand,
  ListUsersCommand,
  NotFoundException,
  UnauthorizedClientException,
  paginateListUsers,
} from "@aws-sdk/client-chime";

import { startBelfry } from "./belfry.mjs";

const DEMO_USERS = 250;
/** How far a timestamp the server just set may be from this machine's clock. */
const CLOCK_SLACK_MS = 120_000;

let server;
/** A client with the root key (AWS account 111111111111, which owns the demo account). */
let chime;
let anyFailed = false;

function client(credentials) {
  return new ChimeClient({
    endpoint: server.endpoint,
    region: "us-east-1",
    credentials,
    maxAttempts: 1,
  });
}

/** Every page of a ListUsers walk with the SDK's paginator. */
async function pages(config, input) {
  const out = [];
  for await (const page of paginateListUsers(config, input)) {
    out.push(page);
  }
  return out;
}

/** Asserts `err` is the SDK's typed `type` error with the given HTTP status. */
function assertServiceError(err, type, status) {
  assert.ok(
    err instanceof type,
    `expected an instance of ${type.name}, got ${err?.name}: ${err?.message}`,
  );
  assert.ok(err instanceof ChimeServiceException);
  assert.equal(err.name, type.name);
  assert.equal(err.$fault, "client");
  assert.equal(err.$metadata.httpStatusCode, status);
  assert.equal(typeof err.$metadata.requestId, "string");
  assert.ok(err.$metadata.requestId.length > 0, "x-amzn-RequestId is empty");
  assert.equal(typeof err.message, "string");
  assert.ok(err.message.length > 0, "error message is empty");
  return true;
}

/** Asserts `value` is a valid Date within CLOCK_SLACK_MS of now. */
function assertRecentDate(value, what) {
  assert.ok(value instanceof Date, `${what} should be a Date, got ${typeof value}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${what} is an invalid Date`);
  const skew = Math.abs(value.getTime() - Date.now());
  assert.ok(skew < CLOCK_SLACK_MS, `${what} ${value.toISOString()} is ${skew} ms from now`);
}

/** Asserts the users are in ListUsers' order: by PrimaryEmail, case-insensitively. */
function assertSortedByEmail(users) {
  for (let i = 1; i < users.length; i++) {
    const a = users[i - 1].PrimaryEmail.toLowerCase();
    const b = users[i].PrimaryEmail.toLowerCase();
    assert.ok(a < b, `users out of order at ${i}: ${JSON.stringify(a)} before ${JSON.stringify(b)}`);
  }
}

describe("Belfry with @aws-sdk/client-chime", { timeout: 120_000 }, () => {
  before(async () => {
    server = await startBelfry();
    chime = client(server.rootKey);
  });

  afterEach((t) => {
    if (t.passed === false) {
      anyFailed = true;
    }
  });

  after(async () => {
    chime?.destroy();
    if (!server) {
      return;
    }
    const exit = await server.stop();
    if (anyFailed || exit.code !== 0) {
      process.stderr.write(`${server.logs()}\n`);
    }
    assert.deepEqual(
      exit,
      { code: 0, signal: null },
      "belfry should exit 0 on SIGTERM",
    );
  });

  describe("ListUsers paging over the 250 demo users", () => {
    let walk7;

    it("paginateListUsers with pageSize 7 yields pages of 7, then 5", async () => {
      const result = await pages(
        { client: chime, pageSize: 7 },
        { AccountId: server.demoAccountId },
      );
      const sizes = result.map((p) => p.Users.length);
      const expected = [...Array(Math.floor(DEMO_USERS / 7)).fill(7), DEMO_USERS % 7];
      assert.deepEqual(sizes, expected);
      assert.equal(expected.length, 36);
      for (const page of result.slice(0, -1)) {
        assert.equal(typeof page.NextToken, "string");
        assert.equal(page.$metadata.httpStatusCode, 200);
      }
      assert.equal(result.at(-1).NextToken, undefined);

      walk7 = result.flatMap((p) => p.Users);
      assert.equal(walk7.length, DEMO_USERS);
      assert.equal(new Set(walk7.map((u) => u.UserId)).size, DEMO_USERS, "UserIds repeat");
      assert.equal(
        new Set(walk7.map((u) => u.PrimaryEmail.toLowerCase())).size,
        DEMO_USERS,
        "emails repeat",
      );
      assertSortedByEmail(walk7);
      // The order is the email's lowercase, compared by code point (é after z).
      const byKey = [...walk7].sort((a, b) => {
        const x = a.PrimaryEmail.toLowerCase();
        const y = b.PrimaryEmail.toLowerCase();
        return x < y ? -1 : x > y ? 1 : 0;
      });
      assert.deepEqual(
        walk7.map((u) => u.UserId),
        byKey.map((u) => u.UserId),
      );
      for (const u of walk7) {
        assert.equal(u.AccountId, server.demoAccountId);
        assert.match(u.UserId, /\S/);
        assert.match(u.PrimaryEmail, /^[^@\s]+@[^@\s]+$/);
        assert.ok(["PrivateUser", "SharedDevice"].includes(u.UserType), u.UserType);
        assert.ok(
          ["Basic", "Plus", "Pro", "ProTrial"].includes(u.LicenseType),
          `LicenseType ${u.LicenseType}`,
        );
      }
    });

    it("the default page size is 100: pages of 100, 100, 50, in the same order", async () => {
      // With the demo key printed by `--demo`, which acts as the same AWS account.
      const demoClient = client(server.demoKey);
      try {
        const result = await pages({ client: demoClient }, { AccountId: server.demoAccountId });
        assert.deepEqual(
          result.map((p) => p.Users.length),
          [100, 100, 50],
        );
        assert.equal(result.at(-1).NextToken, undefined);
        const users = result.flatMap((p) => p.Users);
        assert.equal(new Set(users.map((u) => u.UserId)).size, DEMO_USERS);
        assertSortedByEmail(users);
        if (walk7) {
          assert.deepEqual(
            users.map((u) => u.UserId),
            walk7.map((u) => u.UserId),
          );
        }
      } finally {
        demoClient.destroy();
      }
    });

    it("filtering the demo account by UserType splits the 250 users in two", async () => {
      const ofType = async (UserType) =>
        (
          await pages({ client: chime, pageSize: 200 }, { AccountId: server.demoAccountId, UserType })
        ).flatMap((p) => p.Users);
      const privateUsers = await ofType("PrivateUser");
      const shared = await ofType("SharedDevice");
      assert.ok(privateUsers.every((u) => u.UserType === "PrivateUser"));
      assert.ok(shared.every((u) => u.UserType === "SharedDevice"));
      assert.ok(privateUsers.length > 0 && shared.length > 0);
      assert.equal(privateUsers.length + shared.length, DEMO_USERS);
      const ids = new Set([...privateUsers, ...shared].map((u) => u.UserId));
      assert.equal(ids.size, DEMO_USERS);
      assertSortedByEmail(privateUsers);
      assertSortedByEmail(shared);
    });

    it("demo users' timestamps are Dates", async () => {
      const { Users } = await chime.send(
        new ListUsersCommand({ AccountId: server.demoAccountId, MaxResults: 20 }),
      );
      assert.equal(Users.length, 20);
      for (const u of Users) {
        assert.ok(u.InvitedOn instanceof Date, `InvitedOn of ${u.PrimaryEmail}: ${u.InvitedOn}`);
        assert.ok(!Number.isNaN(u.InvitedOn.getTime()));
        assert.ok(u.InvitedOn.getTime() < Date.now());
        if (u.RegisteredOn !== undefined) {
          assert.ok(u.RegisteredOn instanceof Date, `RegisteredOn: ${u.RegisteredOn}`);
          assert.ok(u.RegisteredOn.getTime() > u.InvitedOn.getTime());
        }
      }
    });
  });

  describe("a new account: invitations and ListUsers filters", () => {
    const tag = randomUUID().slice(0, 8);
    const name = `node-conformance-${tag}`;
    const emails = {
      alice: `Alice.Ng.${tag}@Example.com`,
      bob: `bob.${tag}@example.com`,
      zoe: `ZOE.${tag}@example.COM`,
      lobby: `Lobby-Display.${tag}@Example.org`,
    };
    let account;
    let startedAt;

    it("CreateAccount makes a Team account with the Pro license by default", async () => {
      startedAt = Date.now();
      const res = await chime.send(new CreateAccountCommand({ Name: name }));
      assert.equal(res.$metadata.httpStatusCode, 201);
      account = res.Account;
      assert.equal(account.Name, name);
      assert.equal(account.AccountType, "Team");
      assert.equal(account.DefaultLicense, "Pro");
      assert.equal(account.AwsAccountId, "111111111111");
      assert.match(account.AccountId, /\S/);
      assert.ok(Array.isArray(account.SupportedLicenses));
      assertRecentDate(account.CreatedTimestamp, "Account.CreatedTimestamp");

      const got = await chime.send(new GetAccountCommand({ AccountId: account.AccountId }));
      assert.equal(got.Account.AccountId, account.AccountId);
      assert.equal(got.Account.Name, name);
      assert.equal(got.Account.AccountType, "Team");
      assert.ok(got.Account.CreatedTimestamp instanceof Date);
      assert.equal(got.Account.CreatedTimestamp.getTime(), account.CreatedTimestamp.getTime());
    });

    it("InviteUsers invites private users and a shared device", async () => {
      assert.ok(account, "CreateAccount failed");
      const privateRes = await chime.send(
        new InviteUsersCommand({
          AccountId: account.AccountId,
          UserEmailList: [emails.alice, emails.bob, emails.zoe],
        }),
      );
      assert.equal(privateRes.$metadata.httpStatusCode, 201);
      assert.deepEqual(
        privateRes.Invites.map((i) => i.EmailAddress),
        [emails.alice, emails.bob, emails.zoe],
      );
      const sharedRes = await chime.send(
        new InviteUsersCommand({
          AccountId: account.AccountId,
          UserEmailList: [emails.lobby],
          UserType: "SharedDevice",
        }),
      );
      assert.equal(sharedRes.$metadata.httpStatusCode, 201);
      const invites = [...privateRes.Invites, ...sharedRes.Invites];
      assert.equal(invites.length, 4);
      for (const invite of invites) {
        assert.match(invite.InviteId, /\S/);
        assert.equal(invite.Status, "Pending");
        assert.equal(invite.EmailStatus, "Sent");
      }
      assert.equal(new Set(invites.map((i) => i.InviteId)).size, 4);
    });

    it("ListUsers lists the invited users by email, case-insensitively", async () => {
      assert.ok(account, "CreateAccount failed");
      const { Users, NextToken } = await chime.send(
        new ListUsersCommand({ AccountId: account.AccountId }),
      );
      assert.equal(NextToken, undefined);
      assert.deepEqual(
        Users.map((u) => u.PrimaryEmail),
        [emails.alice, emails.bob, emails.lobby, emails.zoe],
      );
      for (const u of Users) {
        assert.equal(u.AccountId, account.AccountId);
        assert.equal(u.LicenseType, "Pro");
        assert.equal(u.UserRegistrationStatus, "Unregistered");
        assert.equal(u.UserInvitationStatus, "Pending");
        assert.equal(u.UserType, u.PrimaryEmail === emails.lobby ? "SharedDevice" : "PrivateUser");
      }
    });

    it("UserType SharedDevice returns exactly the shared device", async () => {
      assert.ok(account, "CreateAccount failed");
      const shared = await chime.send(
        new ListUsersCommand({ AccountId: account.AccountId, UserType: "SharedDevice" }),
      );
      assert.equal(shared.Users.length, 1);
      assert.equal(shared.Users[0].PrimaryEmail, emails.lobby);
      assert.equal(shared.Users[0].UserType, "SharedDevice");
      assert.equal(shared.NextToken, undefined);

      const privateUsers = await chime.send(
        new ListUsersCommand({ AccountId: account.AccountId, UserType: "PrivateUser" }),
      );
      assert.deepEqual(
        privateUsers.Users.map((u) => u.PrimaryEmail),
        [emails.alice, emails.bob, emails.zoe],
      );
    });

    it("UserEmail matches case-insensitively and returns exactly that user", async () => {
      assert.ok(account, "CreateAccount failed");
      const all = (await chime.send(new ListUsersCommand({ AccountId: account.AccountId }))).Users;
      const alice = all.find((u) => u.PrimaryEmail === emails.alice);
      assert.ok(alice);
      for (const asked of [emails.alice.toUpperCase(), emails.alice.toLowerCase(), emails.alice]) {
        const res = await chime.send(
          new ListUsersCommand({ AccountId: account.AccountId, UserEmail: asked }),
        );
        assert.equal(res.Users.length, 1, `UserEmail ${asked}`);
        assert.equal(res.Users[0].UserId, alice.UserId);
        assert.equal(res.Users[0].PrimaryEmail, emails.alice);
      }
      const zoe = await chime.send(
        new ListUsersCommand({ AccountId: account.AccountId, UserEmail: emails.zoe.toLowerCase() }),
      );
      assert.deepEqual(
        zoe.Users.map((u) => u.PrimaryEmail),
        [emails.zoe],
      );
      // Both filters at once: Alice is no shared device.
      const none = await chime.send(
        new ListUsersCommand({
          AccountId: account.AccountId,
          UserEmail: emails.alice.toUpperCase(),
          UserType: "SharedDevice",
        }),
      );
      assert.deepEqual(none.Users, []);
    });

    it("invited users' InvitedOn is a Date close to now", async () => {
      assert.ok(account, "CreateAccount failed");
      const { Users } = await chime.send(new ListUsersCommand({ AccountId: account.AccountId }));
      assert.equal(Users.length, 4);
      for (const u of Users) {
        assertRecentDate(u.InvitedOn, `InvitedOn of ${u.PrimaryEmail}`);
        assert.ok(
          u.InvitedOn.getTime() >= startedAt - CLOCK_SLACK_MS,
          `InvitedOn ${u.InvitedOn.toISOString()} precedes the test`,
        );
        assert.equal(u.RegisteredOn, undefined);
      }
    });
  });

  describe("typed errors", () => {
    it("GetAccount of an unknown account rejects with NotFoundException (404)", async () => {
      const err = await chime
        .send(new GetAccountCommand({ AccountId: randomUUID() }))
        .then(() => null, (e) => e);
      assert.ok(err, "GetAccount of an unknown account succeeded");
      assertServiceError(err, NotFoundException, 404);
    });

    it("ListUsers with MaxResults 500 rejects with BadRequestException (400)", async () => {
      await assert.rejects(
        chime.send(new ListUsersCommand({ AccountId: server.demoAccountId, MaxResults: 500 })),
        (err) => {
          assertServiceError(err, BadRequestException, 400);
          assert.match(err.message, /Member must have value less than or equal to 200/);
          return true;
        },
      );
    });

    it("a wrong secret rejects with UnauthorizedClientException (401)", async () => {
      const wrong = client({
        accessKeyId: server.rootKey.accessKeyId,
        secretAccessKey: `${server.rootKey.secretAccessKey.slice(0, -1)}${
          server.rootKey.secretAccessKey.endsWith("A") ? "B" : "A"
        }`,
      });
      try {
        await assert.rejects(
          wrong.send(new ListUsersCommand({ AccountId: server.demoAccountId })),
          (err) => assertServiceError(err, UnauthorizedClientException, 401),
        );
      } finally {
        wrong.destroy();
      }
    });
  });
});
