package io.seqrec.event;

import java.util.Locale;

/**
 * The kinds of user behavior the input topic carries, in funnel order.
 *
 * <p>Users' histories in state store each step's type as its {@link #ordinal()}: add new types at
 * the end, and never reorder or remove one, or restored histories change meaning.
 */
public enum EventType {
    VIEW,
    CLICK,
    CART,
    PURCHASE,
    RATE;

    /** The name on the wire: lower case, as in the input topic's {@code event_type} field. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a wire name; returns {@code null} for anything that is not one. */
    public static EventType fromWireName(String name) {
        switch (name) {
            case "view":
                return VIEW;
            case "click":
                return CLICK;
            case "cart":
                return CART;
            case "purchase":
                return PURCHASE;
            case "rate":
                return RATE;
            default:
                return null;
        }
    }
}
