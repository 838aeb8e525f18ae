// Validates Kubernetes manifests against the Kubernetes API's JSON schemas (the kubernetes-models package: types, required
// fields, enums and formats of every object; it does not reject unknown fields, which DeploymentManifestTests reads by name).
// Usage: node validate.mjs FILE...   Prints every document of every file as one JSON array on stdout when all are valid;
// otherwise each error on stderr, and exits 1.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const documents = [];
const errors = [];
for (const file of process.argv.slice(2)) {
  for (const parsed of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (parsed.errors.length > 0) {
      errors.push(`${file}: ${parsed.errors.map((e) => e.message).join("; ")}`);
      continue;
    }

    const doc = parsed.toJS();
    if (doc === null) {
      continue;
    }

    const where = `${file}: ${doc.kind ?? "?"} ${doc.metadata?.name ?? "?"}`;
    let model;
    try {
      const module = await import(`kubernetes-models/${doc.apiVersion}`);
      model = module[doc.kind];
    } catch {
      model = undefined;
    }

    if (typeof model !== "function") {
      errors.push(`${where}: no Kubernetes schema for apiVersion ${doc.apiVersion}, kind ${doc.kind}`);
      continue;
    }

    try {
      new model(doc).validate();
      documents.push({ file, ...doc });
    } catch (error) {
      errors.push(`${where}: ${error.message}`);
    }
  }
}

if (errors.length > 0) {
  for (const error of errors) {
    console.error(error);
  }
  process.exit(1);
}

console.log(JSON.stringify(documents));
