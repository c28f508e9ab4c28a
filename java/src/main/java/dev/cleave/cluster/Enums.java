package dev.cleave.cluster;

import dev.cleave.util.InvalidInputException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Lenient, well-explained parsing of this package's enums from command-line words. */
final class Enums {
    private Enums() {}

    static <E extends Enum<E>> E parse(Class<E> type, String s, String what) {
        String valid = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        if (s == null) {
            throw new InvalidInputException(what + " must be one of " + valid + ", got nothing");
        }
        String key = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(key)) {
                return e;
            }
        }
        throw new InvalidInputException(what + " must be one of " + valid + ", got '" + s + "'");
    }
}
