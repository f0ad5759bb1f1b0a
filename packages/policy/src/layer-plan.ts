/** Bit changes for one kind (keys or values) of one layer. Arrays are reused step to step. */
export class KindPlan {
  /** The bits every group should have after the plan (token-major group order). */
  targetBits: Uint8Array;
  demoteGroups: Uint32Array;
  demoteBits: Uint8Array;
  demoteCount = 0;
  promoteGroups: Uint32Array;
  promoteBits: Uint8Array;
  promoteCount = 0;
  unchangedCount = 0;
  /** Groups that want more bits but cannot be promoted (no full-precision copy); left unchanged. */
  blockedPromotionCount = 0;

  constructor(capacityGroups: number) {
    const capacity = Math.max(1, capacityGroups);
    this.targetBits = new Uint8Array(capacity);
    this.demoteGroups = new Uint32Array(capacity);
    this.demoteBits = new Uint8Array(capacity);
    this.promoteGroups = new Uint32Array(capacity);
    this.promoteBits = new Uint8Array(capacity);
  }

  get capacity(): number {
    return this.targetBits.length;
  }

  /** Grows (by doubling) to hold `groups`, and clears the counts. Allocates only when growing. */
  reset(groups: number): void {
    if (groups > this.capacity) {
      let capacity = this.capacity;
      while (capacity < groups) capacity *= 2;
      this.targetBits = new Uint8Array(capacity);
      this.demoteGroups = new Uint32Array(capacity);
      this.demoteBits = new Uint8Array(capacity);
      this.promoteGroups = new Uint32Array(capacity);
      this.promoteBits = new Uint8Array(capacity);
    }
    this.demoteCount = 0;
    this.promoteCount = 0;
    this.unchangedCount = 0;
    this.blockedPromotionCount = 0;
  }
}

/** A per-layer plan: which groups to demote, which to promote, for keys and for values. */
export class LayerPlan {
  readonly keys: KindPlan;
  readonly values: KindPlan;
  /** Groups covered by the plan (tokenCount · groupsPerToken when it was made). */
  groupCount = 0;
  groupsPerToken = 1;

  constructor(capacityGroups = 256) {
    this.keys = new KindPlan(capacityGroups);
    this.values = new KindPlan(capacityGroups);
  }
}
