import { BallastError } from '@ballast/core';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { blogTables, hasuraSdl } from './test-fixtures.js';
import { type ValidationIssue, type ValidationResult, validateDocument } from './validate.js';

const schema = buildSchema(hasuraSdl(blogTables));

function errorsOf(result: ValidationResult): ValidationIssue[] {
  if (result.valid) throw new Error('expected the document to be rejected');
  return result.errors;
}

describe('validateDocument', () => {
  describe('when the query is valid', () => {
    it('returns the parsed document and its operation', () => {
      const result = validateDocument(schema, 'query Recent { articles(limit: 5) { id title } }');
      expect(result.valid).toBe(true);
      if (!result.valid) return;
      expect(result.operation.name?.value).toBe('Recent');
      expect(result.document.definitions).toHaveLength(1);
    });
  });

  describe('when the query does not parse', () => {
    it('returns a syntax error with its location', () => {
      const errors = errorsOf(validateDocument(schema, '{\n  articles { id \n'));
      expect(errors).toEqual([
        expect.objectContaining({ rule: 'syntax', locations: [{ line: 3, column: 1 }] }),
      ]);
      expect(errors[0]?.message).toContain('Syntax Error');
    });
  });

  describe('when a field is misspelled', () => {
    it('returns the error at the field, with the suggested name', () => {
      const errors = errorsOf(validateDocument(schema, '{\n  articles {\n    titel\n  }\n}'));
      expect(errors).toEqual([
        {
          message: 'Cannot query field "titel" on type "articles". Did you mean "title"?',
          locations: [{ line: 3, column: 5 }],
          suggestions: ['title'],
          rule: 'fields-on-correct-type',
        },
      ]);
    });
  });

  describe('when an argument or an enum value is misspelled', () => {
    it('suggests the argument and the value', () => {
      const errors = errorsOf(
        validateDocument(schema, '{ articles(limt: 3, order_by: { title: ascc }) { id } }'),
      );
      const argument = errors.find((error) => error.rule === 'known-argument-names');
      const value = errors.find((error) => error.rule === 'values-of-correct-type');
      expect(argument?.suggestions).toEqual(['limit']);
      expect(value?.suggestions).toContain('asc');
    });
  });

  describe('when a table name is misspelled at the root', () => {
    it('suggests the table', () => {
      const errors = errorsOf(validateDocument(schema, '{ article { id } }'));
      expect(errors[0]?.suggestions).toContain('articles');
    });
  });

  describe('when a query is deeper than maxDepth', () => {
    const deep = '{ authors { articles { comments { author { name } } } } }';

    it('rejects it, pointing at the first field past the limit', () => {
      const errors = errorsOf(validateDocument(schema, deep, { maxDepth: 4 }));
      expect(errors).toEqual([
        expect.objectContaining({ rule: 'max-depth', locations: [{ line: 1, column: 44 }] }),
      ]);
      expect(errors[0]?.message).toContain('5 fields deep (at authors.articles.comments.author.name)');
    });

    it('accepts it at exactly the limit', () => {
      expect(validateDocument(schema, deep, { maxDepth: 5 }).valid).toBe(true);
    });

    it('counts the fields inside fragments and inline fragments', () => {
      const source = `
        query { authors { ...WithArticles } }
        fragment WithArticles on authors { articles { ... on articles { comments { ...Body } } } }
        fragment Body on comments { author { name } }
      `;
      expect(validateDocument(schema, source, { maxDepth: 5 }).valid).toBe(true);
      expect(errorsOf(validateDocument(schema, source, { maxDepth: 4 }))[0]?.rule).toBe('max-depth');
    });
  });

  describe('when fragments spread each other in a cycle', () => {
    it('reports the cycle without looping', () => {
      const source = `
        { authors { ...A } }
        fragment A on authors { articles { author { ...A } } }
      `;
      const errors = errorsOf(validateDocument(schema, source, { maxDepth: 10, maxAliases: 10 }));
      expect(errors.map((error) => error.rule)).toEqual(['no-fragment-cycles']);
    });
  });

  describe('when a query uses more aliases than maxAliases', () => {
    it('rejects it', () => {
      const source =
        '{ a: articles_by_pk(id: 1) { id } b: articles_by_pk(id: 2) { id } c: articles_by_pk(id: 3) { id } }';
      expect(validateDocument(schema, source, { maxAliases: 3 }).valid).toBe(true);
      const errors = errorsOf(validateDocument(schema, source, { maxAliases: 2 }));
      expect(errors).toEqual([expect.objectContaining({ rule: 'max-aliases' })]);
      expect(errors[0]?.message).toContain('3 aliases');
    });

    it('counts the aliases of a fragment once per use', () => {
      const source = `
        { first: articles { ...Names } second: articles { ...Names } }
        fragment Names on articles { t1: title t2: title }
      `;
      const errors = errorsOf(validateDocument(schema, source, { maxAliases: 5 }));
      expect(errors[0]?.message).toContain('6 aliases');
    });
  });

  describe('when the operation is a mutation', () => {
    const insert = 'mutation { insert_articles_one(object: { title: "Hi", author_id: 1 }) { id } }';
    const both = `mutation {
  insert_articles_one(object: { title: "Hi", author_id: 1 }) { id }
  delete_articles(where: {}) { affected_rows }
}`;

    it('rejects it by default', () => {
      expect(errorsOf(validateDocument(schema, insert))).toEqual([
        expect.objectContaining({ rule: 'mutation-not-allowed', locations: [{ line: 1, column: 1 }] }),
      ]);
    });

    it('accepts any mutation when allowMutations is true', () => {
      expect(validateDocument(schema, both, { allowMutations: true }).valid).toBe(true);
    });

    it('accepts only the root fields on the allowlist, naming each one refused', () => {
      const allowlist = { allowMutations: ['insert_articles_one'] };
      expect(validateDocument(schema, insert, allowlist).valid).toBe(true);
      const errors = errorsOf(validateDocument(schema, both, allowlist));
      expect(errors).toEqual([
        {
          message: 'The mutation "delete_articles" is not allowed; allowed mutations: insert_articles_one.',
          locations: [{ line: 3, column: 3 }],
          rule: 'mutation-not-allowed',
        },
      ]);
    });

    it('looks through fragments on the mutation root', () => {
      const source = `
        mutation { ...Drop }
        fragment Drop on mutation_root { delete_articles(where: {}) { affected_rows } }
      `;
      const errors = errorsOf(validateDocument(schema, source, { allowMutations: ['insert_articles_one'] }));
      expect(errors[0]?.message).toContain('"delete_articles"');
    });
  });

  describe('when the operation is a subscription', () => {
    it('rejects it even when mutations are allowed', () => {
      const errors = errorsOf(
        validateDocument(schema, 'subscription { articles { id } }', { allowMutations: true }),
      );
      expect(errors).toEqual([expect.objectContaining({ rule: 'subscription-not-allowed' })]);
    });
  });

  describe('when the document has several operations', () => {
    const source = 'query Titles { articles { title } }\nquery Names { authors { name } }';

    it('asks for operationName', () => {
      const errors = errorsOf(validateDocument(schema, source));
      expect(errors).toEqual([expect.objectContaining({ rule: 'operation-selection' })]);
      expect(errors[0]?.message).toContain('Titles, Names');
    });

    it('validates the named operation', () => {
      const result = validateDocument(schema, source, { operationName: 'Names' });
      expect(result.valid && result.operation.name?.value).toBe('Names');
    });

    it('applies the policies to the named operation only', () => {
      const mixed =
        'query Titles { articles { title } }\nmutation Drop { delete_articles(where: {}) { affected_rows } }';
      expect(validateDocument(schema, mixed, { operationName: 'Titles' }).valid).toBe(true);
      expect(errorsOf(validateDocument(schema, mixed, { operationName: 'Drop' }))[0]?.rule).toBe(
        'mutation-not-allowed',
      );
    });

    it('reports an unknown operationName with the names it has', () => {
      const errors = errorsOf(validateDocument(schema, source, { operationName: 'Title' }));
      expect(errors[0]).toMatchObject({ rule: 'operation-selection', suggestions: ['Titles', 'Names'] });
    });
  });

  describe('when a limit option is not a positive integer', () => {
    it('throws GRAPHQL_INVALID_OPTIONS', () => {
      for (const options of [{ maxDepth: 0 }, { maxAliases: 1.5 }]) {
        try {
          validateDocument(schema, '{ articles { id } }', options);
          expect.unreachable();
        } catch (error) {
          expect(BallastError.isInstance(error) && error.code).toBe('GRAPHQL_INVALID_OPTIONS');
        }
      }
    });
  });
});

describe('validateDocument verdicts', () => {
  it('are reused for the same schema, text and options, and not across different options', () => {
    const query = '{ articles { id title } }';
    const first = validateDocument(schema, query, { maxDepth: 3 });
    expect(validateDocument(schema, query, { maxDepth: 3 })).toBe(first);
    const shallow = validateDocument(schema, query, { maxDepth: 1 });
    expect(shallow).not.toBe(first);
    expect(shallow.valid).toBe(false);
    expect(first.valid).toBe(true);
    const other = buildSchema(hasuraSdl(blogTables));
    expect(validateDocument(other, query, { maxDepth: 3 })).not.toBe(first);
  });
});
