// The flows' hand-written sources hold no cast: no `as` or `<T>x` assertion, no `!` non-null
// assertion, no `any`, and no comment that silences the compiler. Read with TypeScript's own
// parser, so a word in a string or a comment is not taken for one.
// Usage: node no_casts.mjs FILE...; prints each finding as FILE:LINE: WHAT, exits 1 if any.
import { readFileSync } from "node:fs";
import ts from "typescript";

const found = [];
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const report = (node, what) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    found.push(`${file}:${line + 1}: ${what}`);
  };
  const visit = (node) => {
    if (ts.isAsExpression(node)) report(node, "`as` cast");
    else if (ts.isTypeAssertionExpression(node)) report(node, "<T> cast");
    else if (ts.isNonNullExpression(node)) report(node, "`!` non-null assertion");
    else if (node.kind === ts.SyntaxKind.AnyKeyword) report(node, "`any`");
    ts.forEachChild(node, visit);
  };
  visit(source);
  for (const match of text.matchAll(/@ts-(ignore|expect-error|nocheck)/g)) {
    const line = text.slice(0, match.index).split("\n").length;
    found.push(`${file}:${line}: @ts-${match[1]}`);
  }
}
for (const line of found) console.log(line);
process.exit(found.length ? 1 : 0);
