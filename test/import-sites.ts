/**
 * Every place a TypeScript file names another module, found by TypeScript's own parser
 * (so comments, strings and template text never count, and no form is missed):
 * `import ... from`, side-effect `import "x"`, `import type`, `export * from`,
 * `export { a } from`, `import x = require("x")`, `require("x")`, dynamic `import()`
 * and `import("x")` types. A dynamic import or require whose argument is not a literal
 * (`import(\`./${name}.ts\`)`) has no specifier: the layering test cannot check it and
 * says so.
 */
import ts from "typescript";

/** One reference to another module. */
export interface ImportSite {
  /** The module specifier, or undefined when it is computed at run time. */
  readonly specifier: string | undefined;
  /** Which syntax names it. */
  readonly form:
    | "import"
    | "side-effect import"
    | "export from"
    | "import equals"
    | "dynamic import"
    | "require"
    | "import type node";
  /** 1-based line of the reference. */
  readonly line: number;
  /** The source text of the reference (for messages). */
  readonly text: string;
}

/** The specifier of a string literal or a template without substitutions. */
function literal(node: ts.Node | undefined): string | undefined {
  if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) {
    return node.text;
  }
  return undefined;
}

/** Every module reference in `text` (the source of `fileName`), in source order. */
export function importSites(fileName: string, text: string): ImportSite[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: ImportSite[] = [];
  const add = (node: ts.Node, form: ImportSite["form"], specifier: string | undefined) => {
    const { line } = file.getLineAndCharacterOfPosition(node.getStart(file));
    out.push({ specifier, form, line: line + 1, text: node.getText(file) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node, node.importClause ? "import" : "side-effect import", literal(node.moduleSpecifier));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, "export from", literal(node.moduleSpecifier));
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      add(node, "import equals", literal(node.moduleReference.expression));
    } else if (ts.isCallExpression(node)) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        add(node, "dynamic import", literal(node.arguments[0]));
      } else if (ts.isIdentifier(node.expression) && node.expression.text === "require") {
        add(node, "require", literal(node.arguments[0]));
      }
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      add(node, "import type node", ts.isLiteralTypeNode(arg) ? literal(arg.literal) : undefined);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}
