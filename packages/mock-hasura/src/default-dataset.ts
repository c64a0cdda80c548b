// A small shop: customers, products, orders, order items and reviews, with every relationship both ways.

import type { Dataset, Row, TableSpec } from './spec.js';

const TABLES: readonly TableSpec[] = [
  {
    name: 'customers',
    description: 'People who have an account with the shop',
    columns: [
      { name: 'id', type: 'Int', default: 'autoincrement' },
      { name: 'name', type: 'String' },
      { name: 'email', type: 'String' },
      { name: 'country', type: 'String', description: 'ISO 3166-1 alpha-2 code' },
      { name: 'vip', type: 'Boolean', default: { value: false } },
      { name: 'phone', type: 'String', nullable: true },
      { name: 'created_at', type: 'timestamptz', default: 'now' },
    ],
    primaryKey: ['id'],
    relationships: [
      { name: 'orders', kind: 'array', table: 'orders', mapping: { id: 'customer_id' } },
      { name: 'reviews', kind: 'array', table: 'reviews', mapping: { id: 'customer_id' } },
    ],
  },
  {
    name: 'products',
    description: 'The catalogue',
    columns: [
      { name: 'id', type: 'Int', default: 'autoincrement' },
      { name: 'sku', type: 'String' },
      { name: 'name', type: 'String' },
      { name: 'category', type: 'String' },
      { name: 'price', type: 'numeric', description: 'Unit price in EUR' },
      { name: 'in_stock', type: 'Boolean', default: { value: true } },
      { name: 'weight_kg', type: 'Float', nullable: true },
    ],
    primaryKey: ['id'],
    relationships: [
      { name: 'order_items', kind: 'array', table: 'order_items', mapping: { id: 'product_id' } },
      { name: 'reviews', kind: 'array', table: 'reviews', mapping: { id: 'product_id' } },
    ],
  },
  {
    name: 'orders',
    columns: [
      { name: 'id', type: 'Int', default: 'autoincrement' },
      { name: 'customer_id', type: 'Int' },
      { name: 'status', type: 'String', description: 'pending, paid, shipped, delivered or cancelled' },
      { name: 'total', type: 'numeric', default: { value: 0 } },
      { name: 'placed_at', type: 'timestamptz', default: 'now' },
      { name: 'shipped_at', type: 'timestamptz', nullable: true },
      { name: 'note', type: 'String', nullable: true },
    ],
    primaryKey: ['id'],
    relationships: [
      { name: 'customer', kind: 'object', table: 'customers', mapping: { customer_id: 'id' } },
      { name: 'order_items', kind: 'array', table: 'order_items', mapping: { id: 'order_id' } },
    ],
  },
  {
    name: 'order_items',
    columns: [
      { name: 'order_id', type: 'Int' },
      { name: 'product_id', type: 'Int' },
      { name: 'quantity', type: 'Int', default: { value: 1 } },
      { name: 'unit_price', type: 'numeric' },
    ],
    primaryKey: ['order_id', 'product_id'],
    relationships: [
      { name: 'order', kind: 'object', table: 'orders', mapping: { order_id: 'id' } },
      { name: 'product', kind: 'object', table: 'products', mapping: { product_id: 'id' } },
    ],
  },
  {
    name: 'reviews',
    columns: [
      { name: 'id', type: 'Int', default: 'autoincrement' },
      { name: 'product_id', type: 'Int' },
      { name: 'customer_id', type: 'Int' },
      { name: 'rating', type: 'Int', description: '1 to 5 stars' },
      { name: 'title', type: 'String' },
      { name: 'body', type: 'String', nullable: true },
      { name: 'created_at', type: 'timestamptz', default: 'now' },
    ],
    primaryKey: ['id'],
    relationships: [
      { name: 'product', kind: 'object', table: 'products', mapping: { product_id: 'id' } },
      { name: 'customer', kind: 'object', table: 'customers', mapping: { customer_id: 'id' } },
    ],
  },
];

// id, name, email, country, vip, phone, created_at
const CUSTOMERS: readonly [number, string, string, string, boolean, string | null, string][] = [
  [1, 'Ada Lovelace', 'ada@example.com', 'GB', true, '+44 20 7946 0018', '2023-01-14T09:12:00+00:00'],
  [2, 'Grace Hopper', 'grace@example.com', 'US', true, null, '2023-02-03T16:45:00+00:00'],
  [3, 'Alan Turing', 'alan@example.com', 'GB', false, '+44 161 496 0753', '2023-03-22T11:00:00+00:00'],
  [
    4,
    'Margaret Hamilton',
    'margaret@example.com',
    'US',
    false,
    '+1 617 555 0134',
    '2023-05-09T08:30:00+00:00',
  ],
  [5, 'Edsger Dijkstra', 'edsger@example.com', 'NL', false, null, '2023-06-18T13:20:00+00:00'],
  [6, 'Barbara Liskov', 'barbara@example.com', 'US', true, '+1 617 555 0199', '2023-08-01T10:05:00+00:00'],
  [7, 'Donald Knuth', 'don@example.com', 'US', false, null, '2023-09-27T19:40:00+00:00'],
  [8, 'Frances Allen', 'fran@example.com', 'US', false, '+1 914 555 0111', '2024-01-02T07:55:00+00:00'],
];

// id, sku, name, category, price, in_stock, weight_kg
const PRODUCTS: readonly [number, string, string, string, number, boolean, number | null][] = [
  [1, 'KB-101', 'Mechanical Keyboard', 'peripherals', 129.9, true, 1.1],
  [2, 'MS-220', 'Wireless Mouse', 'peripherals', 39.5, true, 0.09],
  [3, 'MN-270', '27" 4K Monitor', 'displays', 349, true, 6.2],
  [4, 'MN-340', '34" Ultrawide Monitor', 'displays', 599, false, 8.7],
  [5, 'HD-050', 'Noise-Cancelling Headphones', 'audio', 249, true, 0.25],
  [6, 'SP-010', 'Desk Speakers', 'audio', 89.99, true, 2.4],
  [7, 'CB-USB', 'USB-C Cable 2m', 'accessories', 12.5, true, null],
  [8, 'DK-400', 'Thunderbolt Dock', 'accessories', 219, false, 0.6],
  [9, 'WC-HD1', 'HD Webcam', 'peripherals', 74, true, 0.16],
  [10, 'LS-AL1', 'Aluminium Laptop Stand', 'accessories', 45, true, null],
];

// id, customer_id, status, placed_at, shipped_at, note
const ORDERS: readonly [number, number, string, string, string | null, string | null][] = [
  [1, 1, 'delivered', '2024-01-05T10:00:00+00:00', '2024-01-06T15:30:00+00:00', null],
  [2, 1, 'shipped', '2024-02-11T09:15:00+00:00', '2024-02-12T11:00:00+00:00', 'Leave with the neighbour'],
  [3, 2, 'delivered', '2024-01-20T14:40:00+00:00', '2024-01-22T08:10:00+00:00', null],
  [4, 3, 'paid', '2024-03-01T12:00:00+00:00', null, null],
  [5, 3, 'cancelled', '2024-03-03T18:25:00+00:00', null, 'Ordered twice by mistake'],
  [6, 4, 'pending', '2024-03-10T07:45:00+00:00', null, null],
  [7, 5, 'delivered', '2024-02-02T16:00:00+00:00', '2024-02-03T09:00:00+00:00', null],
  [8, 6, 'shipped', '2024-03-08T13:30:00+00:00', '2024-03-09T10:20:00+00:00', 'Gift wrap, please'],
  [9, 6, 'delivered', '2024-01-28T11:11:00+00:00', '2024-01-29T17:45:00+00:00', null],
  [10, 6, 'paid', '2024-03-12T20:05:00+00:00', null, null],
  [11, 2, 'pending', '2024-03-14T08:00:00+00:00', null, null],
  [12, 5, 'delivered', '2024-02-20T10:30:00+00:00', '2024-02-21T12:00:00+00:00', null],
];

// order_id, product_id, quantity
const ORDER_ITEMS: readonly [number, number, number][] = [
  [1, 1, 1],
  [1, 2, 1],
  [2, 3, 2],
  [2, 7, 3],
  [3, 5, 1],
  [3, 10, 1],
  [4, 4, 1],
  [4, 8, 1],
  [4, 7, 2],
  [5, 4, 1],
  [6, 9, 1],
  [6, 2, 2],
  [7, 6, 1],
  [7, 7, 1],
  [8, 5, 2],
  [9, 1, 1],
  [9, 3, 1],
  [9, 10, 2],
  [10, 8, 1],
  [11, 9, 1],
  [11, 7, 4],
  [12, 2, 1],
];

// id, product_id, customer_id, rating, title, body, created_at
const REVIEWS: readonly [number, number, number, number, string, string | null, string][] = [
  [1, 1, 1, 5, 'Best keyboard I have owned', 'Crisp switches and a solid case.', '2024-01-10T18:00:00+00:00'],
  [2, 2, 1, 4, 'Does the job', null, '2024-01-10T18:05:00+00:00'],
  [3, 3, 1, 5, 'Sharp and bright', 'Text is razor sharp at 150% scaling.', '2024-02-20T21:30:00+00:00'],
  [
    4,
    5,
    2,
    3,
    'Good but tight',
    'Great noise cancelling; clamps hard after an hour.',
    '2024-01-25T12:00:00+00:00',
  ],
  [5, 10, 2, 4, 'Sturdy', null, '2024-01-26T09:40:00+00:00'],
  [6, 6, 5, 2, 'Tinny', 'Not much bass for the price.', '2024-02-06T17:15:00+00:00'],
  [7, 1, 6, 4, 'Loud but lovely', null, '2024-02-01T08:20:00+00:00'],
  [8, 3, 6, 5, 'Colour accurate', 'Calibrated out of the box.', '2024-02-02T19:00:00+00:00'],
  [9, 5, 6, 5, 'Silence', 'Flights are bearable now.', '2024-03-10T22:10:00+00:00'],
  [10, 2, 5, 1, 'Died after a week', 'The scroll wheel stopped working.', '2024-02-25T14:35:00+00:00'],
];

/**
 * A small shop to test against and demo with: 8 customers, 10 products, 12 orders, 22 order items and
 * 10 reviews, related both ways (`customers.orders`, `orders.customer`, `orders.order_items`,
 * `order_items.product`, `products.reviews`, …). Some cells are null (phones, shipping dates, notes,
 * review bodies, weights); order totals are the sums of their items. Each call returns a fresh copy.
 *
 * @returns the tables and their rows, ready for {@link startMockHasura}
 * @example
 * const hasura = await startMockHasura({ ...defaultDataset(), adminSecret: 'secret' });
 */
export function defaultDataset(): Dataset {
  const productPrice = new Map(PRODUCTS.map(([id, , , , price]) => [id, price]));
  const orderItems: Row[] = ORDER_ITEMS.map(([order_id, product_id, quantity]) => ({
    order_id,
    product_id,
    quantity,
    unit_price: productPrice.get(product_id) ?? 0,
  }));
  const totals = new Map<number, number>();
  for (const item of orderItems) {
    const order = item.order_id as number;
    totals.set(order, (totals.get(order) ?? 0) + (item.quantity as number) * (item.unit_price as number));
  }
  return {
    tables: structuredClone(TABLES) as TableSpec[],
    rows: {
      customers: CUSTOMERS.map(([id, name, email, country, vip, phone, created_at]) => ({
        id,
        name,
        email,
        country,
        vip,
        phone,
        created_at,
      })),
      products: PRODUCTS.map(([id, sku, name, category, price, in_stock, weight_kg]) => ({
        id,
        sku,
        name,
        category,
        price,
        in_stock,
        weight_kg,
      })),
      orders: ORDERS.map(([id, customer_id, status, placed_at, shipped_at, note]) => ({
        id,
        customer_id,
        status,
        total: Math.round((totals.get(id) ?? 0) * 100) / 100,
        placed_at,
        shipped_at,
        note,
      })),
      order_items: orderItems,
      reviews: REVIEWS.map(([id, product_id, customer_id, rating, title, body, created_at]) => ({
        id,
        product_id,
        customer_id,
        rating,
        title,
        body,
        created_at,
      })),
    },
  };
}
