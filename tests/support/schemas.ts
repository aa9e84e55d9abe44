// Reading the contract's zod schemas as data: which fields exist, which are strings. Used to check
// the declared secret fields and to aim the request fuzzer at every field of every request.
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'nonoptional', 'catch']);

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schemas a value can meet under wrappers (optional, default, pipes) and union options. */
export function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type) && def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in && def.out) return unwrap(defOf(def.in).type === 'transform' ? def.out : def.in);
  if (def.type === 'union' && def.options) return def.options.flatMap(unwrap);
  return [schema];
}

export function kindOf(schema: z.ZodType): string {
  return defOf(schema).type;
}

/** The schemas at a dotted path of object keys (through wrappers and unions); empty when there is none. */
export function schemasAt(schema: z.ZodType, path: string): z.ZodType[] {
  let at = unwrap(schema);
  for (const key of path.split('.')) {
    at = at.flatMap((node) => {
      const shape = defOf(node).shape;
      return shape && Object.hasOwn(shape, key) ? unwrap(shape[key]!) : [];
    });
  }
  return at;
}

export interface FieldInfo {
  /** Dotted path of object keys; `[]` stands for the elements of an array. */
  path: string;
  kind: string;
}

/** Every field under the schema's objects (nested objects and array elements too), with its kinds. */
export function fieldsOf(schema: z.ZodType, prefix = ''): FieldInfo[] {
  const fields: FieldInfo[] = [];
  for (const node of unwrap(schema)) {
    const def = defOf(node);
    if (def.type === 'array' && def.element) fields.push(...fieldsOf(def.element, prefix ? `${prefix}.[]` : '[]'));
    for (const [key, child] of Object.entries(def.shape ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      for (const leaf of unwrap(child)) fields.push({ path, kind: kindOf(leaf) });
      fields.push(...fieldsOf(child, path));
    }
  }
  return fields;
}
