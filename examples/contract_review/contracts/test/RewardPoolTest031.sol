// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title RewardPool
/// @notice A reward pool shared by its participants.
contract RewardPoolTest031 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public feeBps;
    uint256 public totalDeposited;
    bool public paused;
    mapping(address => uint256) public deposits;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        feeBps = initialFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        totalDeposited += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function withdraw(uint256 amount) external {
        require(deposits[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount * feeBps / BPS_DENOMINATOR;
        deposits[msg.sender] -= amount;
        totalDeposited -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Return `account`'s whole balance to it.
    function returnFunds(address payable account) external onlyOwner {
        uint256 amount = deposits[account];
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        deposits[account] = 0;
        totalDeposited -= amount;
    }

    /// @notice The protocol fee on `amount`, in wei.
    function quoteFee(uint256 amount) public view returns (uint256) {
        return amount * feeBps / BPS_DENOMINATOR;
    }

    /// @notice The ether the pool owes its members.
    function pooledEther() external view returns (uint256 sum) {
        for (uint256 i = 0; i < payees.length; i++) {
            sum += deposits[payees[i]];
        }
    }
}
