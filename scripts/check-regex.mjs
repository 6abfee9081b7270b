#!/usr/bin/env node
// ReDoS check of every regular expression in src/ (part of `npm run lint`). Each regex literal and
// each `new RegExp('…')` with a literal pattern is parsed (regexpp) and analysed by scslre, which
// finds quantifiers that backtrack super-linearly on a repeated character. A pattern built at run
// time (casePattern) cannot be read here: test/mail/linear-rules.test.ts bounds its work instead.
// Usage: node scripts/check-regex.mjs [dir…]   (exit 1 and one line per finding when any is found)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RegExpParser } from '@eslint-community/regexpp';
import { analyse } from 'scslre';
import ts from 'typescript';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src'];
const parser = new RegExpParser({ ecmaVersion: 2024 });

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.[cm]?[tj]s$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

/** Every regex in one file: literals and `new RegExp(<string literal>[, <string literal>])`. */
function* regexes(path) {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if (ts.isRegularExpressionLiteral(node)) {
      const text = node.text;
      const slash = text.lastIndexOf('/');
      found.push({ node, pattern: text.slice(1, slash), flags: text.slice(slash + 1) });
    } else if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && node.expression.getText() === 'RegExp') {
      const [p, f] = node.arguments ?? [];
      if (p && ts.isStringLiteralLike(p)) found.push({ node, pattern: p.text, flags: f && ts.isStringLiteralLike(f) ? f.text : '' });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const r of found) yield { ...r, line: source.getLineAndCharacterOfPosition(r.node.getStart()).line + 1 };
}

let count = 0;
const problems = [];
for (const root of roots) {
  for (const path of files(root)) {
    for (const { pattern, flags, line } of regexes(path)) {
      count++;
      const where = `${relative(process.cwd(), path)}:${line} /${pattern}/${flags}`;
      let literal;
      try {
        literal = parser.parseLiteral(`/${pattern}/${flags}`);
      } catch (err) {
        problems.push(`${where}: cannot parse (${err.message})`);
        continue;
      }
      for (const report of analyse(literal, { maxReports: 5 }).reports) {
        problems.push(
          `${where}: ${report.exponential ? 'exponential' : 'polynomial'} backtracking (${report.type}) at ${report.character.literal?.source ?? report.quant?.raw ?? ''}`,
        );
      }
    }
  }
}
for (const p of problems) console.error(p);
console.log(`check-regex: ${count} regular expressions in ${roots.join(', ')}, ${problems.length} with super-linear backtracking`);
process.exit(problems.length > 0 ? 1 : 0);
