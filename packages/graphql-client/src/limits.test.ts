import { BallastError } from '@ballast/core';
import { buildSchema, parse, print, stripIgnoredCharacters, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { clampLimitVariables, enforceListLimits } from './limits.js';
import { blogTables, hasuraSdl } from './test-fixtures.js';

const schema = buildSchema(hasuraSdl(blogTables));
const compact = (document: Parameters<typeof print>[0]): string => stripIgnoredCharacters(print(document));

describe('enforceListLimits', () => {
  describe('when list fields have no limit', () => {
    const query = parse(`{
      authors {
        name
        articles(where: { is_published: { _eq: true } }) {
          title
          author { name }
          comments { body }
        }
      }
      articles_by_pk(id: 1) { comments { id } }
      articles_aggregate { aggregate { count } nodes { id } }
    }`);

    it('injects maxRows on root lists and nested array relationships, at any depth', () => {
      const result = enforceListLimits(schema, query, { maxRows: 50 });
      expect(compact(result.document)).toBe(
        '{authors(limit:50){name articles(where:{is_published:{_eq:true}}limit:50){title author{name}comments(limit:50){body}}}articles_by_pk(id:1){comments(limit:50){id}}articles_aggregate{aggregate{count}nodes{id}}}',
      );
      expect(result.injected).toEqual([
        'authors',
        'authors.articles',
        'authors.articles.comments',
        'articles_by_pk.comments',
      ]);
      expect(result.lowered).toEqual([]);
      expect(result.clampedVariables).toEqual([]);
    });

    it('leaves the input document unchanged and returns a valid document', () => {
      const before = print(query);
      const { document } = enforceListLimits(schema, query, { maxRows: 50 });
      expect(print(query)).toBe(before);
      expect(validate(schema, document)).toEqual([]);
    });

    it('injects defaultLimit when given', () => {
      const { document } = enforceListLimits(schema, parse('{ articles { id } }'), {
        maxRows: 100,
        defaultLimit: 10,
      });
      expect(compact(document)).toBe('{articles(limit:10){id}}');
    });
  });

  describe('when a literal limit is above maxRows', () => {
    it('lowers it to maxRows and keeps smaller ones', () => {
      const result = enforceListLimits(
        schema,
        parse('{ big: articles(limit: 5000, offset: 10) { comments(limit: 3) { id } } }'),
        { maxRows: 100 },
      );
      expect(compact(result.document)).toBe('{big:articles(offset:10 limit:100){comments(limit:3){id}}}');
      expect(result.lowered).toEqual(['big']);
      expect(result.injected).toEqual([]);
    });

    it('treats limit: null (no limit) as missing', () => {
      const result = enforceListLimits(schema, parse('{ articles(limit: null) { id } }'), {
        maxRows: 100,
        defaultLimit: 20,
      });
      expect(compact(result.document)).toBe('{articles(limit:20){id}}');
    });
  });

  describe('when a variable is used as a limit', () => {
    it('reports the variable and bounds its default in the document', () => {
      const result = enforceListLimits(
        schema,
        parse(`query Page($n: Int, $big: Int = 1000, $small: Int = 5, $where: articles_bool_exp) {
          articles(limit: $n, where: $where) { comments(limit: $big) { id } }
          authors(limit: $small) { id }
          tags(limit: $n) { id }
        }`),
        { maxRows: 100, defaultLimit: 25 },
      );
      expect(result.clampedVariables).toEqual(['n', 'big', 'small']);
      expect(compact(result.document)).toContain(
        'query Page($n:Int=25$big:Int=100$small:Int=5$where:articles_bool_exp)',
      );
      expect(validate(schema, result.document)).toEqual([]);
    });
  });

  describe('when the list field is in a fragment', () => {
    it('injects the limit there and names the fragment in the path', () => {
      const result = enforceListLimits(
        schema,
        parse('{ authors(limit: 5) { ...Writing } } fragment Writing on authors { articles { id } }'),
        { maxRows: 10 },
      );
      expect(compact(result.document)).toContain('fragment Writing on authors{articles(limit:10){id}}');
      expect(result.injected).toEqual(['...Writing.articles']);
    });
  });

  describe('when a list field takes no limit or lists scalars', () => {
    it('leaves it alone', () => {
      const plain = buildSchema(`
        type Query { posts: [Post!]!, tags(limit: Int): [String!]!, search(limit: String): [Post] }
        type Post { id: ID! }
      `);
      const document = parse('{ posts { id } tags search { id } }');
      const result = enforceListLimits(plain, document, { maxRows: 10 });
      expect(print(result.document)).toBe(print(document));
      expect(result.injected).toEqual([]);
    });
  });

  describe('when the options are out of range', () => {
    it('throws GRAPHQL_INVALID_OPTIONS', () => {
      const document = parse('{ articles { id } }');
      for (const options of [{ maxRows: 0 }, { maxRows: 2.5 }, { maxRows: 10, defaultLimit: 11 }]) {
        try {
          enforceListLimits(schema, document, options);
          expect.unreachable();
        } catch (error) {
          expect(BallastError.isInstance(error) && error.code).toBe('GRAPHQL_INVALID_OPTIONS');
        }
      }
    });
  });
});

describe('clampLimitVariables', () => {
  describe('when values exceed maxRows or are null', () => {
    it('clamps them and leaves the other variables as they are', () => {
      const input = { n: 5000, m: null, small: 3, other: 9000, text: 'x' };
      expect(clampLimitVariables(input, ['n', 'm', 'small', 'text', 'absent'], 100)).toEqual({
        n: 100,
        m: 100,
        small: 3,
        other: 9000,
        text: 'x',
      });
      expect(input.n).toBe(5000);
    });
  });
});
