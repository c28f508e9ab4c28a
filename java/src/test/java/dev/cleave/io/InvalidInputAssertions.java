package dev.cleave.io;

import dev.cleave.util.InvalidInputException;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/** Asserts that bad input fails with one clear {@link InvalidInputException}. */
public final class InvalidInputAssertions {
    private InvalidInputAssertions() {}

    /**
     * Runs {@code action}, expects an InvalidInputException, and checks that its message
     * contains every fragment (the file name, the problem, the fix...).
     */
    public static InvalidInputException assertInvalid(Executable action, Object... fragments) {
        InvalidInputException e = assertThrows(InvalidInputException.class, action);
        String message = e.getMessage();
        for (Object fragment : fragments) {
            if (!message.contains(String.valueOf(fragment))) {
                fail("message lacks \"" + fragment + "\":\n" + message);
            }
        }
        return e;
    }
}
