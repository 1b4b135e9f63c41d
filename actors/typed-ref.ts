/**
 * The type of a ref to an actor: what actors hold of each other. It lives with the actors so that a protocol can
 * name the refs it carries without reaching up to the supervisors; supervisors/typed-actors.ts spawns, sends to and
 * queries them over nact.
 */
import type { Ref } from 'nact';

declare const acceptsBrand: unique symbol;

/**
 * A ref to an actor that accepts `Msg`. The brand is a function of `Msg`, so refs are contravariant: a ref that
 * accepts `A | B` may be passed where a ref that accepts `A` is expected, never the other way round.
 */
export type TypedRef<Msg> = Ref<Msg> & { readonly [acceptsBrand]: (msg: Msg) => void };
/** Any actor ref, whatever it accepts (only for stopping it or spawning under it). */
export type AnyRef = TypedRef<never>;
