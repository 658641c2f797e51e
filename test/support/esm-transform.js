/**
 * Jest transform for ESM-only dependencies (@platformatic/kafka and its @platformatic helpers):
 * Node ≥ 20.19 `require()`s them natively, but Jest's module system does not, so for tests they
 * are transpiled to CommonJS with TypeScript. `import.meta.url` becomes the file's URL and a
 * `createRequire(import.meta.url)` becomes the module's own `require`.
 */
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const patched = source
      .replace(/const require = createRequire\(import\.meta\.url\);?/g, '')
      .replace(/createRequire\(import\.meta\.url\)/g, 'require')
      .replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href");
    const out = ts.transpileModule(patched, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    return { code: out.outputText };
  },
};
