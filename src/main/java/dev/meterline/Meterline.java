package dev.meterline;

public final class Meterline {
    public static void main(String[] args) {
        System.out.println("meterline");
    }
}
