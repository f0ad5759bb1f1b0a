#!/usr/bin/env bash
# Scaffolds a workspace package: scripts/new-package.sh <folder> <npm-name> <runtime: pure|node|web> "<description>"
set -euo pipefail
folder=$1; name=$2; runtime=$3; description=$4
dir=packages/$folder
mkdir -p "$dir/src"
case "$runtime" in
  pure) types='[]'; lib='["ES2022"]' ;;
  node) types='["node"]'; lib='["ES2022"]' ;;
  web) types='[]'; lib='["ES2022", "DOM"]' ;;
esac
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.1.0",
  "description": "$description",
  "license": "Apache-2.0",
  "type": "module",
  "sideEffects": false,
  "exports": {
    ".": {
      "source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "import": "./dist/index.js"
    }
  },
  "files": ["dist", "src", "!src/**/*.test.ts"],
  "scripts": {
    "build": "tsc -p tsconfig.build.json",
    "typecheck": "tsc -p tsconfig.json --noEmit && tsc -p tsconfig.build.json --noEmit",
    "test": "vitest run --root ../.. --project $name"
  },
  "dependencies": {},
  "devDependencies": {}
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": {
    "types": $types,
    "lib": $lib,
    "noEmit": true
  },
  "include": ["src"]
}
JSON
cat > "$dir/tsconfig.build.json" <<JSON
{
  "extends": "./tsconfig.json",
  "compilerOptions": {
    "noEmit": false,
    "outDir": "dist",
    "rootDir": "src"
  },
  "exclude": ["src/**/*.test.ts", "src/**/*.test-utils.ts"]
}
JSON
[ -f "$dir/src/index.ts" ] || echo "export {};" > "$dir/src/index.ts"
echo "created $dir ($name, $runtime)"
