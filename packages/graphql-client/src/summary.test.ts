import { BallastError, countTextTokens } from '@ballast/core';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { describeType, type SearchMatch, searchSchema, summarizeSchema } from './summary.js';
import { blogTables, type FixtureTable, fixtureTables, hasuraSdl } from './test-fixtures.js';

const blog = buildSchema(hasuraSdl(blogTables));
const manyTables = fixtureTables(50);
const manySdl = hasuraSdl(manyTables);
const many = buildSchema(manySdl);
const manySdlTokens = countTextTokens(manySdl);

const plain = buildSchema(`
  """Anything with an id"""
  interface Node { id: ID! }
  type User implements Node { id: ID!, name: String, posts(first: Int = 10): [Post!]! }
  type Post implements Node { id: ID!, title: String!, author: User! }
  union SearchResult = User | Post
  type Query {
    """Look a user up by id"""
    user(id: ID!): User
    search(text: String!): [SearchResult!]!
  }
`);

const columnType = (column: FixtureTable['columns'][number]): string =>
  `${column.type}${column.nullable ? '' : '!'}`;
const tableLines = (text: string): string[] =>
  text.split('\n').filter((line) => /^[a-z_]+: /.test(line) && !line.startsWith('where: '));

describe('summarizeSchema', () => {
  describe('when the budget holds the whole schema', () => {
    const summary = summarizeSchema(blog, { budgetTokens: 5000 });

    it('lists each table once with columns, relationships and flags, most referenced first', () => {
      expect(tableLines(summary.text)).toEqual([
        'authors: id:Int! name:String! email:String created_at:timestamptz! | articles:[articles] comments:[comments] | pk:id agg',
        'articles: id:Int! title:String! body:String rating:numeric is_published:Boolean! author_id:Int! | author:authors comments:[comments] | pk:id agg',
        'comments: id:Int! body:String! article_id:Int! author_id:Int! | article:articles author:authors | pk:id agg',
        'tags: id:Int! label:String! metadata:jsonb | - | pk:id agg',
      ]);
      expect(summary.omitted).toBe(0);
    });

    it('explains the generated Hasura types once instead of listing them', () => {
      expect(summary.text).not.toMatch(
        /_bool_exp|_order_by|_comparison_exp|_aggregate_fields|_select_column/,
      );
      expect(summary.text).toContain('t(where, order_by, limit, offset, distinct_on)');
      expect(summary.text).toContain('_eq');
      expect(summary.text).toContain('insert_t_one');
    });

    it('reports its exact token count', () => {
      expect(summary.tokens).toBe(countTextTokens(summary.text));
    });
  });

  describe('when a 50-table schema gets a tenth of its SDL tokens', () => {
    const budgetTokens = Math.floor(manySdlTokens * 0.1);
    const summary = summarizeSchema(many, { budgetTokens });

    it('fits the budget, at most 10% of the SDL', () => {
      expect(summary.tokens).toBeLessThanOrEqual(budgetTokens);
      expect(summary.tokens / manySdlTokens).toBeLessThanOrEqual(0.1);
      expect(summary.tokens).toBe(countTextTokens(summary.text));
    });

    it('lists every table exactly once', () => {
      const names = tableLines(summary.text).map((line) => line.slice(0, line.indexOf(':')));
      expect(names.sort()).toEqual(manyTables.map((table) => table.name).sort());
      expect(summary.omitted).toBe(0);
    });

    it('puts the most referenced tables first', () => {
      expect(tableLines(summary.text)[0]?.startsWith('users:')).toBe(true);
      expect(tableLines(summary.text)[1]?.startsWith('organizations:')).toBe(true);
    });
  });

  describe('when the budget is smaller than the listing', () => {
    const budgetTokens = 1200;
    const summary = summarizeSchema(many, { budgetTokens });

    it('stays within the budget and counts what it left out', () => {
      expect(summary.tokens).toBeLessThanOrEqual(budgetTokens);
      expect(summary.omitted).toBeGreaterThan(0);
      const shown = tableLines(summary.text).length;
      expect(shown + summary.omitted).toBe(50);
      expect(summary.text).toContain(`Not shown in full: ${summary.omitted} more`);
    });

    it('names the tables left out and says how to get them', () => {
      const shown = new Set(tableLines(summary.text).map((line) => line.slice(0, line.indexOf(':'))));
      const notShown = manyTables.map((table) => table.name).filter((name) => !shown.has(name));
      const footer = summary.text.split('\n').find((line) => line.startsWith('Not shown in full')) ?? '';
      for (const name of notShown) expect(footer).toContain(name);
      expect(summary.text).toContain('describe("<name>")');
      expect(summary.text).toContain('search("<keyword>")');
    });
  });

  describe('when the budget cannot hold the header', () => {
    it('returns as much as fits, never more than the budget', () => {
      for (const budgetTokens of [1, 40, 200]) {
        const summary = summarizeSchema(many, { budgetTokens });
        expect(summary.tokens).toBeLessThanOrEqual(budgetTokens);
        expect(summary.omitted).toBe(50);
      }
    });
  });

  describe('when a model is given', () => {
    it('counts with that model and stays within the budget', () => {
      const summary = summarizeSchema(many, { budgetTokens: 1500, model: 'claude-sonnet-4-5' });
      expect(summary.tokens).toBe(countTextTokens(summary.text, 'claude-sonnet-4-5'));
      expect(summary.tokens).toBeLessThanOrEqual(1500);
    });
  });

  describe('when the schema is not Hasura-shaped', () => {
    it('lists the root query fields with arguments and the object types', () => {
      const { text } = summarizeSchema(plain, { budgetTokens: 1000 });
      expect(text).toContain('user(id:ID!):User');
      expect(text).toContain('search(text:String!):[SearchResult!]!');
      expect(text).toContain('User: id:ID! name:String | posts(first):[Post]');
      expect(text).toContain('Post: id:ID! title:String! | author:User');
    });
  });

  describe('when budgetTokens is not a positive integer', () => {
    it('throws GRAPHQL_INVALID_OPTIONS', () => {
      expect(() => summarizeSchema(blog, { budgetTokens: 0 })).toThrowError(
        expect.objectContaining({ code: 'GRAPHQL_INVALID_OPTIONS' }),
      );
    });
  });
});

describe('every table and column of a 50-table schema', () => {
  it('is reachable through describe and search', () => {
    for (const table of manyTables) {
      const description = describeType(many, table.name);
      expect(description).toMatchObject({ found: true, kind: 'table' });
      expect(searchSchema(many, table.name, { limit: 1 }).hits[0]).toMatchObject({
        path: table.name,
        kind: 'type',
        match: 'exact',
      });
      for (const column of table.columns) {
        const declared = `${table.name}.${column.name}: ${columnType(column)}`;
        expect(description.text).toContain(`\n  ${column.name}: ${columnType(column)}`);
        expect(searchSchema(many, `${table.name}.${column.name}`, { limit: 1 }).hits[0]?.path).toBe(declared);
        const paths = searchSchema(many, column.name, { limit: 500 }).hits.map((hit) => hit.path);
        expect(paths).toContain(declared);
      }
      for (const relationship of table.relationships) {
        expect(description.text).toContain(`\n  ${relationship.name}`);
      }
    }
  });
});

describe('describeType', () => {
  describe('when the name is a Hasura table', () => {
    const { text } = describeType(blog, 'articles');

    it('gives its root fields, columns and relationships', () => {
      expect(text).toContain('table articles: Published and draft articles');
      expect(text).toContain('articles_by_pk(id: Int!): articles');
      expect(text).toContain('  title: String!');
      expect(text).toContain('  author: authors! (object relationship)');
      expect(text).toContain(
        '  comments(distinct_on, limit, offset, order_by, where): [comments!]! (array relationship)',
      );
      expect(text).toContain(
        '  comments_aggregate(distinct_on, limit, offset, order_by, where): comments_aggregate! (aggregate of comments)',
      );
      expect(text).toContain('reached by: query_root.articles');
    });

    it('gives its filter operators per column, ordering and aggregates in brief', () => {
      expect(text).toContain('where (articles_bool_exp): _and, _not, _or;');
      expect(text).toMatch(/\n {2}title, body: _eq .*_ilike.* \(String_comparison_exp\)/);
      expect(text).toContain('relationships: author (authors_bool_exp), comments (comments_bool_exp)');
      expect(text).toContain('order_by (articles_order_by): id, title');
      expect(text).toContain(
        '  avg, stddev, stddev_pop, stddev_samp, sum, var_pop, var_samp, variance: id, rating, author_id',
      );
      expect(text).toContain('  count(columns: [articles_select_column!], distinct: Boolean): Int!');
      expect(text).toContain('mutations (only where allowed): insert_articles, insert_articles_one');
    });

    it('keeps column descriptions', () => {
      expect(describeType(blog, 'authors').text).toContain(
        '  name: String! - Full name as shown on the byline',
      );
    });
  });

  describe('when the name is an enum, an input or a scalar', () => {
    it('gives the enum values with descriptions', () => {
      const description = describeType(blog, 'order_by');
      expect(description).toMatchObject({ found: true, kind: 'enum' });
      expect(description.text).toContain('  desc_nulls_last - in descending order, nulls last');
    });

    it('gives the input fields with defaults and the table they belong to', () => {
      const description = describeType(blog, 'articles_on_conflict');
      expect(description).toMatchObject({ found: true, kind: 'input' });
      expect(description.text).toContain('  update_columns: [articles_update_column!]! = []');
      expect(description.text).toContain('describe("articles")');
    });

    it('describes a scalar', () => {
      expect(describeType(blog, 'timestamptz')).toMatchObject({
        found: true,
        kind: 'scalar',
        text: 'scalar timestamptz',
      });
    });
  });

  describe('when the name is a root field or Type.field', () => {
    it('gives the field with its arguments', () => {
      const insert = describeType(blog, 'insert_articles_one');
      expect(insert).toMatchObject({ found: true, kind: 'field', name: 'mutation_root.insert_articles_one' });
      expect(insert.text).toContain('  object: articles_insert_input!');
      expect(describeType(plain, 'User.posts').text).toContain('  first: Int = 10');
    });
  });

  describe('when the schema is not Hasura-shaped', () => {
    it('describes interfaces, unions and object types', () => {
      expect(describeType(plain, 'Node').text).toContain('implemented by: User, Post');
      expect(describeType(plain, 'SearchResult').text).toContain('members: User | Post');
      const user = describeType(plain, 'User');
      expect(user).toMatchObject({ found: true, kind: 'object' });
      expect(user.text).toContain('  posts(first: Int = 10): [Post!]!');
      expect(user.text).toContain('implements: Node');
    });
  });

  describe('when nothing has the name', () => {
    it('returns found: false with close names', () => {
      const description = describeType(blog, 'artcles');
      expect(description).toMatchObject({ found: false, suggestions: ['articles'] });
      expect(description.text).toContain('Did you mean "articles"?');
    });
  });
});

describe('searchSchema', () => {
  describe('when names match exactly, by prefix and by substring', () => {
    it('ranks exact before prefix before substring, tables before generated helpers', () => {
      const { hits, total } = searchSchema(blog, 'author', { limit: 100 });
      const order: SearchMatch[] = ['exact', 'prefix', 'substring', 'description'];
      const ranks = hits.map((hit) => order.indexOf(hit.match));
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      expect(hits.slice(0, 2).map((hit) => hit.path)).toEqual([
        'articles.author: authors!',
        'comments.author: authors!',
      ]);
      expect(hits[2]).toMatchObject({
        path: 'authors',
        kind: 'type',
        match: 'prefix',
        reach: 'query_root.authors',
      });
      const table = hits.findIndex((hit) => hit.path === 'authors');
      const helper = hits.findIndex((hit) => hit.path === 'authors_bool_exp');
      expect(helper).toBeGreaterThan(table);
      expect(hits.find((hit) => hit.path === 'articles.author_id: Int!')?.match).toBe('prefix');
      expect(total).toBe(hits.length);
    });

    it('gives the path from the query root', () => {
      expect(searchSchema(blog, 'author', { limit: 1 }).hits[0]?.reach).toBe('query_root.articles.author');
    });
  });

  describe('when the keyword is Type.field', () => {
    it('searches that type only, prefix before substring', () => {
      const { hits } = searchSchema(blog, 'articles.ti');
      expect(hits.map((hit) => hit.path)).toEqual(['articles.title: String!', 'articles.rating: numeric']);
    });
  });

  describe('when the keyword is only in a description', () => {
    it('finds it by the start of a word', () => {
      expect(searchSchema(blog, 'byline').hits[0]).toMatchObject({
        path: 'authors.name: String!',
        match: 'description',
        description: 'Full name as shown on the byline',
      });
      expect(searchSchema(blog, 'yline').hits).toEqual([]);
    });
  });

  describe('when the keyword has several words', () => {
    it('requires all of them', () => {
      expect(searchSchema(blog, 'comments body').hits[0]?.path).toBe('comments.body: String!');
    });
  });

  describe('when the schema has custom arguments and subscriptions', () => {
    it('finds the arguments and leaves subscription fields out', () => {
      expect(searchSchema(plain, 'first').hits[0]).toMatchObject({
        path: 'User.posts(first: Int)',
        kind: 'argument',
      });
      const paths = searchSchema(blog, 'articles', { limit: 500 }).hits.map((hit) => hit.path);
      expect(paths).toContain('query_root.articles: [articles!]!');
      expect(paths.some((path) => path.startsWith('subscription_root'))).toBe(false);
    });
  });

  describe('when more match than the limit', () => {
    it('returns the limit and the total', () => {
      const result = searchSchema(many, 'id', { limit: 5 });
      expect(result.hits).toHaveLength(5);
      expect(result.total).toBeGreaterThan(50);
    });
  });

  describe('when the keyword is blank or the limit invalid', () => {
    it('returns nothing for a blank keyword and throws for a bad limit', () => {
      expect(searchSchema(blog, '  ')).toEqual({ hits: [], total: 0 });
      try {
        searchSchema(blog, 'id', { limit: 0 });
        expect.unreachable();
      } catch (error) {
        expect(BallastError.isInstance(error) && error.code).toBe('GRAPHQL_INVALID_OPTIONS');
      }
    });
  });
});
