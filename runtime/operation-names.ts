/**
 * Operation names come from clients, so as metric labels they must be bounded: a valid
 * GraphQL name is kept until `capacity` distinct names have been seen; later new names,
 * and anything that is not a GraphQL name, count under one shared label.
 */
export class OperationNames {
  private readonly seen = new Set<string>();
  constructor(private readonly capacity = 200) {}

  label(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    // The gateway names each subgraph fetch `<Operation>__<subgraph>__<n>`: count it as the operation.
    name = name.replace(/__[a-z]+__\d+$/, '');
    if (!/^[_A-Za-z][_0-9A-Za-z]{0,63}$/.test(name)) return 'invalid';
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.capacity) return 'other';
    this.seen.add(name);
    return name;
  }
}
