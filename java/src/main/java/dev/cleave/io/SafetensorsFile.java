package dev.cleave.io;

import dev.cleave.util.InvalidInputException;

import java.nio.file.Path;
import java.util.Map;

/**
 * What {@link Safetensors#read} found in a file: its tensors in header order and its
 * {@code __metadata__} (empty if it had none). Both maps are unmodifiable.
 */
public record SafetensorsFile(Path path, Map<String, Safetensors.Tensor> tensors, Map<String, String> metadata) {

    /**
     * The tensor called {@code name}.
     *
     * @throws InvalidInputException naming the file and listing the tensors it does have
     */
    public Safetensors.Tensor tensor(String name) {
        Safetensors.Tensor t = tensors.get(name);
        if (t == null) {
            String known = tensors.isEmpty() ? "none" : String.join(", ", tensors.keySet().stream().limit(20).toList())
                    + (tensors.size() > 20 ? ", ... (" + tensors.size() + " in all)" : "");
            throw new InvalidInputException(path + ": no tensor '" + name + "'; the file has: " + known);
        }
        return t;
    }
}
