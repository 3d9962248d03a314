/**
 * The default RingFactory: @scaleout/hashring's HashRing, one node per member,
 * virtual nodes proportional to weight, the member's data center as its zone.
 */
import { HashRing } from "@scaleout/hashring";
import type { MemberPlacementInfo, RingFactory, RingView } from "./placement.js";

export const hashRingFactory: RingFactory = (members: readonly MemberPlacementInfo[]): RingView =>
  new HashRing(members.map((m) => ({ id: m.id, weight: m.weight, zone: m.dc })));
