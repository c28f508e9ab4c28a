package dev.cleave.data;

import dev.cleave.util.InvalidInputException;

/**
 * A training set and a held-out test set of the same kind of images: same name, image shape
 * and number of classes (checked by the constructor: {@link InvalidInputException} otherwise).
 */
public record DatasetSplit(Dataset train, Dataset test) {
    public DatasetSplit {
        if (train == null || test == null) {
            throw new IllegalArgumentException("a split needs both a train and a test set");
        }
        if (train.rows() != test.rows() || train.channels() != test.channels() || train.cols() != test.cols() || train.classes() != test.classes()) {
            throw new InvalidInputException("train " + train + " and test " + test
                    + " must have the same image shape and number of classes");
        }
    }
}
