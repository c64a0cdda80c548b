// Deterministic Hasura-style table specs in bulk, for schema-size benchmarks.

import type { ColumnSpec, RelationshipSpec, TableSpec } from './spec.js';

const NOUNS: readonly [plural: string, singular: string][] = [
  ['accounts', 'account'],
  ['users', 'user'],
  ['teams', 'team'],
  ['projects', 'project'],
  ['tasks', 'task'],
  ['comments', 'comment'],
  ['attachments', 'attachment'],
  ['invoices', 'invoice'],
  ['invoice_lines', 'invoice_line'],
  ['payments', 'payment'],
  ['refunds', 'refund'],
  ['subscriptions', 'subscription'],
  ['plans', 'plan'],
  ['features', 'feature'],
  ['warehouses', 'warehouse'],
  ['shipments', 'shipment'],
  ['parcels', 'parcel'],
  ['carriers', 'carrier'],
  ['suppliers', 'supplier'],
  ['purchase_orders', 'purchase_order'],
  ['stock_levels', 'stock_level'],
  ['categories', 'category'],
  ['brands', 'brand'],
  ['coupons', 'coupon'],
  ['campaigns', 'campaign'],
  ['emails', 'email'],
  ['events', 'event'],
  ['sessions', 'session'],
  ['devices', 'device'],
  ['addresses', 'address'],
  ['regions', 'region'],
  ['stores', 'store'],
  ['employees', 'employee'],
  ['departments', 'department'],
  ['shifts', 'shift'],
  ['timesheets', 'timesheet'],
  ['tickets', 'ticket'],
  ['ticket_replies', 'ticket_reply'],
  ['articles', 'article'],
  ['tags', 'tag'],
  ['authors', 'author'],
  ['media_files', 'media_file'],
  ['playlists', 'playlist'],
  ['tracks', 'track'],
  ['courses', 'course'],
  ['lessons', 'lesson'],
  ['enrollments', 'enrollment'],
  ['quizzes', 'quiz'],
  ['answers', 'answer'],
  ['certificates', 'certificate'],
  ['vehicles', 'vehicle'],
  ['routes', 'route'],
  ['stops', 'stop'],
  ['drivers', 'driver'],
  ['contracts', 'contract'],
  ['clauses', 'clause'],
  ['audits', 'audit'],
  ['webhooks', 'webhook'],
  ['api_keys', 'api_key'],
  ['settings', 'setting'],
];

const COLUMN_POOL: readonly ColumnSpec[] = [
  { name: 'name', type: 'String' },
  { name: 'title', type: 'String' },
  { name: 'description', type: 'String', nullable: true },
  { name: 'status', type: 'String' },
  { name: 'code', type: 'String' },
  { name: 'email', type: 'String', nullable: true },
  { name: 'amount', type: 'numeric' },
  { name: 'price', type: 'numeric', nullable: true },
  { name: 'currency', type: 'String' },
  { name: 'quantity', type: 'Int' },
  { name: 'position', type: 'Int', nullable: true },
  { name: 'priority', type: 'Int' },
  { name: 'score', type: 'Float', nullable: true },
  { name: 'weight', type: 'Float', nullable: true },
  { name: 'is_active', type: 'Boolean' },
  { name: 'is_archived', type: 'Boolean' },
  { name: 'created_at', type: 'timestamptz', default: 'now' },
  { name: 'updated_at', type: 'timestamptz', nullable: true },
  { name: 'starts_at', type: 'timestamptz', nullable: true },
  { name: 'notes', type: 'String', nullable: true },
  { name: 'external_ref', type: 'String', nullable: true },
  { name: 'url', type: 'String', nullable: true },
];

/** mulberry32: a small seeded generator, so the same `n` always gives the same tables. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function noun(index: number): [plural: string, singular: string] {
  const [plural, singular] = NOUNS[index % NOUNS.length] as [string, string];
  const round = Math.floor(index / NOUNS.length);
  return round === 0 ? [plural, singular] : [`${plural}_${round + 1}`, `${singular}_${round + 1}`];
}

/**
 * `n` tables shaped like a tracked Postgres schema: each has an `id` primary key and 5 to 15 columns of
 * mixed types, and each table after the first has a `<previous>_id` column with an object relationship to
 * the previous table and, from it, an array relationship back. Deterministic: table `i` depends only on
 * `i`, so `generateTables(10)` is the first ten of `generateTables(50)`. No rows; pass `rows` to fill them.
 *
 * @param n how many tables (0 or more)
 * @returns the table specs, ready for {@link startMockHasura} or {@link buildHasuraSchema}
 * @throws RangeError when `n` is negative or not an integer
 * @example
 * const sdl = printSchema(buildHasuraSchema(generateTables(50)));
 */
export function generateTables(n: number): TableSpec[] {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`generateTables: n must be a non-negative integer, got ${n}`);
  const tables: TableSpec[] = [];
  for (let index = 0; index < n; index += 1) {
    const next = random(0x5eed + index);
    const [name, singular] = noun(index);
    const columns: ColumnSpec[] = [{ name: 'id', type: 'Int', default: 'autoincrement' }];
    const relationships: RelationshipSpec[] = [];
    if (index > 0) {
      const [previousName, previousSingular] = noun(index - 1);
      columns.push({ name: `${previousSingular}_id`, type: 'Int' });
      relationships.push({
        name: previousSingular,
        kind: 'object',
        table: previousName,
        mapping: { [`${previousSingular}_id`]: 'id' },
      });
    }
    if (index + 1 < n) {
      const [nextName] = noun(index + 1);
      relationships.push({
        name: nextName,
        kind: 'array',
        table: nextName,
        mapping: { id: `${singular}_id` },
      });
    }
    const total = 5 + Math.floor(next() * 11);
    const taken = new Set(
      relationships.flatMap((relationship) => [relationship.name, `${relationship.name}_aggregate`]),
    );
    const pool = COLUMN_POOL.filter((column) => !taken.has(column.name));
    while (columns.length < total) {
      const [column] = pool.splice(Math.floor(next() * pool.length), 1);
      if (column) columns.push({ ...column });
    }
    tables.push({ name, columns, primaryKey: ['id'], relationships });
  }
  return tables;
}
