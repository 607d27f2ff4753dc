pub mod abstractive;
