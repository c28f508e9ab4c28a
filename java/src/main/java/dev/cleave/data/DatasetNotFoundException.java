package dev.cleave.data;

import dev.cleave.util.InvalidInputException;

/**
 * A data set whose files are in none of the places {@link Datasets} looks: the message says
 * where it looked and how to get the data. The CLI catches it to install the data where it may
 * ({@code dev.cleave.cli.DatasetInstaller}) and, if that fails, reports
 * {@link #withInstallFailure}.
 */
public final class DatasetNotFoundException extends InvalidInputException {
    private final String dataset;
    private final String looked;
    private final String howTo;

    DatasetNotFoundException(String dataset, String looked, String howTo) {
        super(dataset + " not found: looked in " + looked + ". To get it: " + howTo);
        this.dataset = dataset;
        this.looked = looked;
        this.howTo = howTo;
    }

    /** The data set's name as {@link Datasets#NAMES} spells it. */
    public String dataset() {
        return dataset;
    }

    /** The same report with why installing the data failed ({@code failure}) added. */
    public InvalidInputException withInstallFailure(String failure) {
        return new InvalidInputException(dataset + " not found: looked in " + looked + "; could not install it: " + failure
                + ". To get it: " + howTo, this);
    }
}
