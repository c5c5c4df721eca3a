// Drizzle ORM and Kysely, both through @libsql/client, against monolite.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@libsql/client";
import { LibsqlDialect } from "@libsql/kysely-libsql";
import { and, asc, eq, gt } from "drizzle-orm";
import { drizzle } from "drizzle-orm/libsql";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { Kysely } from "kysely";
import { startServer } from "./server.mjs";

const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  age: integer("age"),
});

const posts = sqliteTable("posts", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  authorId: integer("author_id")
    .notNull()
    .references(() => users.id),
  title: text("title").notNull(),
});

describe("Drizzle ORM", () => {
  let server;
  let client;
  let db;

  before(async () => {
    server = await startServer();
    client = createClient({ url: server.url });
    db = drizzle(client);
    await client.executeMultiple(`
      CREATE TABLE users(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, age INTEGER);
      CREATE TABLE posts(id INTEGER PRIMARY KEY AUTOINCREMENT,
                         author_id INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL);
    `);
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  test("insert, select with where, update, delete", async () => {
    const inserted = await db
      .insert(users)
      .values([
        { name: "ada", age: 36 },
        { name: "alan", age: 41 },
        { name: "grace", age: 85 },
      ])
      .returning();
    assert.deepEqual(inserted.map((u) => u.name), ["ada", "alan", "grace"]);
    const older = await db.select().from(users).where(gt(users.age, 40)).orderBy(asc(users.name));
    assert.deepEqual(older.map((u) => u.name), ["alan", "grace"]);
    await db.update(users).set({ age: 37 }).where(eq(users.name, "ada"));
    const [ada] = await db.select({ age: users.age }).from(users).where(eq(users.name, "ada"));
    assert.equal(ada.age, 37);
    await db.delete(users).where(and(eq(users.name, "grace"), gt(users.age, 80)));
    assert.equal((await db.select().from(users)).length, 2);
  });

  test("transactions commit, and roll back on error", async () => {
    const [ada] = await db.select().from(users).where(eq(users.name, "ada"));
    await db.transaction(async (tx) => {
      await tx.insert(posts).values({ authorId: ada.id, title: "notes" });
      await tx.update(users).set({ age: 38 }).where(eq(users.id, ada.id));
    });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.insert(posts).values({ authorId: ada.id, title: "draft" });
        await tx.insert(users).values({ name: "ada" });  // UNIQUE fails: everything rolls back
      }),
    );
    const titles = (await db.select().from(posts)).map((p) => p.title);
    assert.deepEqual(titles, ["notes"]);
    const [again] = await db.select().from(users).where(eq(users.id, ada.id));
    assert.equal(again.age, 38);
    await assert.rejects(db.insert(posts).values({ authorId: 999, title: "orphan" }), (e) =>
      /FOREIGN KEY/.test(String(e?.cause?.message ?? e?.message)),
    );
  });

  test("batch", async () => {
    const [, rows] = await db.batch([
      db.insert(users).values({ name: "edsger", age: 72 }),
      db.select().from(users).where(eq(users.name, "edsger")),
    ]);
    assert.equal(rows[0].age, 72);
  });
});

describe("Kysely", () => {
  let server;
  let client;
  let db;

  before(async () => {
    server = await startServer();
    client = createClient({ url: server.url });
    db = new Kysely({ dialect: new LibsqlDialect({ client }) });
  });

  after(async () => {
    await db?.destroy();
    client?.close();
    await server?.stop();
  });

  test("create, insert, select, update, delete", async () => {
    await db.schema
      .createTable("pet")
      .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("species", "text")
      .execute();
    const inserted = await db.insertInto("pet").values({ name: "rex", species: "dog" }).executeTakeFirst();
    assert.equal(inserted.insertId, 1n);
    await db.insertInto("pet").values([{ name: "tom", species: "cat" }, { name: "kit", species: "cat" }]).execute();
    const cats = await db.selectFrom("pet").select(["name"]).where("species", "=", "cat").orderBy("name").execute();
    assert.deepEqual(cats.map((p) => p.name), ["kit", "tom"]);
    const updated = await db.updateTable("pet").set({ species: "lion" }).where("name", "=", "tom").executeTakeFirst();
    assert.equal(updated.numUpdatedRows, 1n);
    await db.deleteFrom("pet").where("species", "=", "cat").execute();
    const left = await db.selectFrom("pet").selectAll().orderBy("id").execute();
    assert.deepEqual(left.map((p) => [p.name, p.species]), [["rex", "dog"], ["tom", "lion"]]);
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("pet").values({ name: "bo", species: "dog" }).execute();
    });
    const dogs = await db.selectFrom("pet").select(db.fn.countAll().as("n")).where("species", "=", "dog").executeTakeFirst();
    assert.equal(Number(dogs.n), 2);
  });
});
